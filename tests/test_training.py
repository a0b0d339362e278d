"""Lightning fits on CPU: resume, precision, and that training actually learns."""

from collections import Counter

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_math.model import Seq2SeqModule
from lit_math.model.module import TaskMismatch

from .helpers import RecordBatches, tiny_data, tiny_model, trainer

FAST = dict(limit_val_batches=0, num_sanity_val_steps=0)


@pytest.mark.parametrize("num_workers,stop", [(0, 7), (2, 7), (0, 15), (2, 15)])
def test_resumed_run_sees_the_same_examples_as_an_uninterrupted_one(tmp_path, num_workers, stop):
    """12 batches per epoch; stop mid-epoch (step 7 of epoch 0, or 15: epoch 1), resume to step 20."""
    whole = RecordBatches()
    trainer(tmp_path / "a", max_steps=20, callbacks=[whole], **FAST).fit(
        tiny_model(tiny_data(num_workers=num_workers)), tiny_data(num_workers=num_workers)
    )
    first, second = RecordBatches(), RecordBatches()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop, save_top_k=-1)
    trainer(tmp_path / "b", max_steps=stop, callbacks=[first, checkpoint], enable_checkpointing=True, **FAST).fit(
        tiny_model(tiny_data(num_workers=num_workers)), tiny_data(num_workers=num_workers)
    )
    trainer(tmp_path / "b", max_steps=20, callbacks=[second], **FAST).fit(
        tiny_model(tiny_data(num_workers=num_workers)),
        tiny_data(num_workers=num_workers),
        ckpt_path=str(tmp_path / "ckpt" / f"epoch={stop // 12}-step={stop}.ckpt"),
    )
    assert len(whole.seen) == 20 * 64
    assert Counter(first.pairs() + second.pairs()) == Counter(whole.pairs())
    assert first.seen + second.seen == whole.seen  # same steps, same order


def test_bf16_mixed_precision_fit_on_cpu(tmp_path):
    data = tiny_data()
    module = tiny_model(data)
    seen = []  # in each training forward: whether autocast is on, its dtype, the logits' dtype

    def record(net, inputs, logits):
        if net.training:
            seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"), logits.dtype))

    module.model.register_forward_hook(record)
    trainer(tmp_path, max_steps=5, precision="bf16-mixed", limit_val_batches=2, num_sanity_val_steps=0).fit(
        module, data
    )
    assert len(seen) == 5 and set(seen) == {(True, torch.bfloat16, torch.bfloat16)}, seen  # not silently fp32
    metrics = trainer(tmp_path, precision="bf16-mixed").validate(module, data, verbose=False)[0]
    assert 0.0 <= metrics["val/natural/acc"] <= 1.0
    assert np.isfinite(metrics["val/natural/loss"])


def test_checkpoint_carries_task_and_vocabulary(tmp_path):
    data = tiny_data()
    fit = trainer(tmp_path, max_steps=3, enable_checkpointing=True, **FAST)
    fit.fit(tiny_model(data), data)
    path = tmp_path / "model.ckpt"
    fit.save_checkpoint(path)
    restored = Seq2SeqModule.load_from_checkpoint(path)
    assert restored.task == data.task and restored.vocabulary == data.task.vocabulary
    source, ids, answers = restored.translate(data.task.parse_problem(["12", "18"]), beam_size=3)
    assert source.shape[0] == ids.shape[0] == 1 and ids.shape[1] == 3 and len(answers) == 1 and len(answers[0]) == 3
    other = tiny_data(base=11)
    with pytest.raises(TaskMismatch, match=r"trained on task .*'base': 10.* data is task .*'base': 11"):
        trainer(tmp_path).validate(tiny_model(other), other, ckpt_path=str(path), verbose=False)


@pytest.mark.slow  # trains until it is right: minutes on a loaded 2-core machine
def test_training_learns_more_than_gcd_one(tmp_path):
    """A base-10 model trained briefly gets pairs of gcd 2 right, which always answering 1 never does."""
    torch.manual_seed(0)
    data = tiny_data(max_int=10**4, epoch_size=256 * 60, batch_size=256, per_class=100, classes=4, natural_size=500)
    module = tiny_model(data, d_model=64, lr=1e-3, warmup_steps=50)
    fit = trainer(tmp_path, max_epochs=2, **FAST)
    fit.fit(module, data)
    predictions = fit.predict(module, data.val_dataloader()[1])
    problems = {k: np.concatenate([p["problems"][k] for p in predictions]) for k in ("a", "b")}
    correct = np.concatenate([p["correct"] for p in predictions])
    gcd = np.gcd(problems["a"], problems["b"])
    assert correct[gcd == 1].mean() > 0.9
    assert correct[gcd == 2].mean() > 0.5, f"gcd-2 accuracy {correct[gcd == 2].mean():.2f}"
