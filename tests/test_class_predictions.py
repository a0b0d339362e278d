"""GCDClassPredictions on a model whose answers are known."""

import numpy as np
import pytest
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_math.analysis import check_rules
from lit_math.analysis.history import HISTORY_FILE, EpochRecord, append_record, read_history
from lit_math.callbacks import GCDClassPredictions
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule

from .helpers import TINY_MODEL, tiny_data, trainer


def largest_power_of_two(n: np.ndarray) -> np.ndarray:
    return n & -n


class KnownAnswers(Seq2SeqModule):
    """Answers the largest power of 2 dividing both operands, except in the epochs listed in `ones`: 1."""

    def __init__(self, task, ones=(), **kwargs):
        super().__init__(task, **kwargs)
        self.ones = set(ones)

    def answer(self, batch, task=None):
        problems = {name: values.cpu().numpy() for name, values in batch["problems"].items()}
        g = np.gcd(problems["a"], problems["b"])
        values = np.ones_like(g) if self.current_epoch in self.ones else largest_power_of_two(g)
        _, target = self.task.encode({"a": values, "b": values})  # gcd(v, v) = v: the target encodes v
        hypotheses = target[:, 1:]
        correct = self.task.score(problems, hypotheses)
        return {"problems": problems, "hypotheses": hypotheses, "correct": correct, "outcomes": {}}


def known_model(data, ones=()):
    return KnownAnswers(data.task_config, ones=ones, **TINY_MODEL)


def test_table_of_a_model_with_known_predictions(tmp_path):
    data = tiny_data(max_int=10**4, classes=100, per_class=3)
    callback = GCDClassPredictions()
    trainer(tmp_path, callbacks=[callback]).validate(known_model(data), data, verbose=False)
    table = callback.table
    for k in range(1, 101):
        expected = np.zeros(102, dtype=int)
        expected[largest_power_of_two(k) - 1] = 3
        assert (table.counts[k - 1] == expected).all(), k
    assert table.learned() == [1, 2, 4, 8, 16, 32, 64]
    rules = check_rules(table, base=10)
    assert rules.r3_explained == 1.0 and rules.mean_top_share == 1.0
    assert rules.grokked == []  # base 10: powers of 2 are products of its primes
    assert check_rules(table, base=31).grokked == [2, 4, 8, 16, 32, 64]


def test_step_events_fire_when_and_only_when_the_learned_set_changes(tmp_path):
    data = tiny_data(max_int=10**4, classes=20, per_class=3, epoch_size=64 * 2)
    callback = GCDClassPredictions(classes=20)
    logger = TensorBoardLogger(tmp_path, name="run")
    fit = trainer(tmp_path, max_epochs=4, callbacks=[callback], logger=logger, num_sanity_val_steps=0)
    fit.fit(known_model(data, ones={0, 3}), data)
    history = read_history(tmp_path / "run" / "version_0" / HISTORY_FILE)
    assert [r.epoch for r in history] == [0, 1, 2, 3]
    powers = [2, 4, 8, 16]
    assert [r.learned for r in history] == [[1], [1, *powers], [1, *powers], [1]]
    assert [(r.joined, r.left) for r in history] == [([1], []), (powers, []), ([], []), ([], powers)]
    assert [r.step for r in history] == [2, 4, 6, 8]
    assert [r.examples for r in history] == [128, 256, 384, 512]
    assert history[1].event_text() == "epoch 1, 256 examples: +2, +4, +8, +16"
    assert callback.events == [r.event_text() for r in history if r.is_event]
    events = EventAccumulator(str(tmp_path / "run" / "version_0"), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    assert [e.value for e in events.Scalars("gcd/learned")] == [1, 5, 5, 1]
    assert {"gcd/predictions_per_class", "gcd/accuracy_over_validations"} <= set(events.Tags()["images"])
    assert any(tag.startswith("gcd/table") for tag in events.Tags()["tensors"])


def test_validate_alone_writes_no_history(tmp_path):
    data = tiny_data(max_int=10**4, classes=20, per_class=3)
    trainer(tmp_path, callbacks=[GCDClassPredictions(classes=20)]).validate(known_model(data), data, verbose=False)
    assert not list(tmp_path.rglob(HISTORY_FILE))


def test_history_round_trips(tmp_path):
    path = tmp_path / HISTORY_FILE
    first = EpochRecord(0, 10, 2560, [[3, 0, 0], [1, 2, 0]], [1], joined=[1], rules={"r3_explained": None})
    resumed = EpochRecord(0, 10, 2560, [[3, 0, 0], [0, 3, 0]], [1], joined=[1])
    second = EpochRecord(1, 20, 5120, [[3, 0, 0], [0, 3, 0]], [1], joined=[], left=[])
    for record in (first, resumed, second):
        append_record(path, record)
    assert read_history(path) == [resumed, second]  # a resumed timeline replaces the records it repeats
    assert (read_history(path)[0].table.counts == np.array([[3, 0, 0], [0, 3, 0]])).all()


def test_several_validations_per_epoch_are_all_kept(tmp_path):
    data = tiny_data(max_int=10**4, classes=20, per_class=3, epoch_size=64 * 4)
    logger = TensorBoardLogger(tmp_path, name="run")
    fit = trainer(
        tmp_path,
        max_epochs=2,
        callbacks=[GCDClassPredictions()],
        logger=logger,
        num_sanity_val_steps=0,
        val_check_interval=0.5,
    )
    fit.fit(known_model(data, ones={0}), data)
    history = read_history(tmp_path / "run" / "version_0" / HISTORY_FILE)
    assert [(r.epoch, r.step) for r in history] == [(0, 2), (0, 4), (1, 6), (1, 8)]
    assert [bool(r.joined) for r in history] == [True, False, True, False]


def test_the_evaluation_set_must_exist(tmp_path):
    data = tiny_data(per_class=0)
    with pytest.raises(ConfigError, match="reads evaluation set 'classes', but the data has \\['natural'\\]"):
        trainer(tmp_path, callbacks=[GCDClassPredictions()]).validate(known_model(data), data, verbose=False)


def test_bad_settings():
    with pytest.raises(ValueError, match="learned_threshold must be in"):
        GCDClassPredictions(learned_threshold=1.5)


def test_a_resumed_run_keeps_its_curves_and_does_not_repeat_events(tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    data = tiny_data(max_int=10**4, classes=20, per_class=3, epoch_size=64 * 2)
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1)
    first = GCDClassPredictions(classes=20)
    logger = TensorBoardLogger(tmp_path, name="run", version=0)
    trainer(
        tmp_path,
        max_epochs=2,
        callbacks=[first, checkpoints],
        logger=logger,
        enable_checkpointing=True,
        num_sanity_val_steps=0,
    ).fit(known_model(data), data)
    resumed = GCDClassPredictions(classes=20)
    logger = TensorBoardLogger(tmp_path, name="run", version=0)
    trainer(tmp_path, max_epochs=4, callbacks=[resumed], logger=logger, num_sanity_val_steps=0).fit(
        known_model(data), data, ckpt_path=str(tmp_path / "ckpt" / "epoch=1-step=4.ckpt")
    )
    history = read_history(tmp_path / "run" / "version_0" / HISTORY_FILE)
    assert [r.epoch for r in history] == [0, 1, 2, 3]
    assert [bool(r.joined) for r in history] == [True, False, False, False]  # learned at epoch 0, never again
    assert len(resumed.accuracy_history) == 4 and resumed.events == first.events
