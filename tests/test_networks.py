"""Every network behind the one module: decoding (greedy, beam, cached) agrees with teacher forcing, each trains,
validates, translates, saves and reloads, under bf16-mixed too; old checkpoints load and answer as before; a
network that cannot serve a task says so in one line."""

import json
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from lit_math.checkpoint import saved_data
from lit_math.errors import ConfigError
from lit_math.model import (
    MLP,
    NETWORKS,
    DecoderOnly,
    EncoderDecoder,
    EncoderOnly,
    GRUSeq2Seq,
    Looped,
    LSTMSeq2Seq,
    Seq2SeqModule,
)
from lit_math.model.beam import beam_search
from lit_math.tasks import GCDTask

from .helpers import tiny_data, trainer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "networks"
TINY = {
    "EncoderDecoder": EncoderDecoder(d_model=32, n_enc_layers=1, n_dec_layers=1, n_heads=4),
    "DecoderOnly": DecoderOnly(d_model=32, n_layers=2, n_heads=4),
    "EncoderOnly": EncoderOnly(d_model=32, n_layers=2, n_heads=4),
    "LSTMSeq2Seq": LSTMSeq2Seq(hidden=32, layers=1, bidirectional=True),
    "GRUSeq2Seq": GRUSeq2Seq(hidden=32, layers=2),
    "Looped": Looped(d_model=32, n_heads=4, loops=3, decoder_loops=2, gated=True),
    "MLP": MLP(embed_dim=16, hidden=64, layers=2),
}


def test_every_network_is_tested():
    assert set(TINY) == set(NETWORKS)


def sources(task, n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    source = torch.randint(3, len(task.vocabulary), (n, task.max_source_len), generator=g)
    lengths = torch.randint(2, task.max_source_len + 1, (n,), generator=g)
    source[torch.arange(task.max_source_len)[None, :] >= lengths[:, None]] = 0
    return source


@pytest.mark.parametrize("name", sorted(TINY))
def test_step_by_step_decoding_is_teacher_forcing_along_the_greedy_path(name):
    """The decoding state (key/value cache, hidden state, precomputed slots) gives the logits the full forward
    pass gives for the same prefix, and a beam of one is greedy decoding."""
    torch.manual_seed(0)
    task = GCDTask(base=10)
    model = TINY[name].build(len(task.vocabulary), task.max_source_len, task.max_target_len).eval()
    for p in model.parameters():  # larger weights: varied tokens, more chances for a mismatch
        p.data.mul_(8)
    source = sources(task)
    greedy = model.generate(source)
    assert len(set(greedy.flatten().tolist())) > 3
    prefix = torch.cat([torch.full((len(source), 1), model.bos_id), greedy[:, :-1]], dim=1)
    forced = model(source, prefix)
    state, stepped = model.start(source), []
    for position in range(prefix.shape[1]):
        logits, state = model.step(prefix[:, position], state, position)
        stepped.append(logits)
    torch.testing.assert_close(torch.stack(stepped, dim=1), forced, atol=1e-4, rtol=1e-4)
    written = greedy != model.pad_id
    assert torch.equal(forced.argmax(-1)[written], greedy[written])
    beam, _ = beam_search(model, source, 1)
    assert torch.equal(beam[:, 0, : greedy.shape[1]], greedy)


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_network_fits_one_batch(name):
    torch.manual_seed(0)
    task = GCDTask(base=10, max_int=1000)
    module = Seq2SeqModule(task=task.config(), network=TINY[name])
    source, target = (torch.from_numpy(x) for x in task.encode(task.sample(np.random.default_rng(0), 32)))
    batch = {"source": source, "target": target}
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    first = module.loss(batch).item()
    for _ in range(60):
        optimizer.zero_grad()
        loss = module.loss(batch)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_network_trains_validates_translates_and_reloads(name, tmp_path):
    L.seed_everything(0)
    data = tiny_data(epoch_size=64 * 4, natural_size=48, per_class=2, classes=10)
    module = Seq2SeqModule(task=data.task_config, network=TINY[name], lr=2e-3, warmup_steps=2, beam_size=2)
    fit = trainer(tmp_path, max_epochs=1, num_sanity_val_steps=0)
    fit.fit(module, data)
    metrics = fit.callback_metrics
    assert {"val/natural/acc", "val/natural/acc@2", "val/classes/loss"} <= set(metrics)
    fit.save_checkpoint(tmp_path / "model.ckpt")
    reloaded = Seq2SeqModule.load_from_checkpoint(tmp_path / "model.ckpt").eval()
    assert type(reloaded.network) is type(TINY[name]) and reloaded.network == TINY[name]
    problems = {"a": np.array([12, 35, 100]), "b": np.array([18, 49, 75])}
    module.eval()
    for beam in (1, 3):
        _, ids, readings = reloaded.translate(problems, beam_size=beam)
        assert np.array_equal(ids, module.translate(problems, beam_size=beam)[1])
        assert ids.shape[:2] == (3, beam) and len(readings) == 3 and len(readings[0]) == beam
    results = trainer(tmp_path).validate(reloaded, data, verbose=False)
    assert results[0]["val/natural/acc"] == pytest.approx(float(metrics["val/natural/acc"]))


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_network_trains_in_bf16_mixed(name, tmp_path):
    L.seed_everything(0)
    data = tiny_data(epoch_size=64 * 2, natural_size=32, per_class=1, classes=10)
    module = Seq2SeqModule(task=data.task_config, network=TINY[name], lr=2e-3, warmup_steps=2)
    fit = trainer(tmp_path, max_epochs=1, precision="bf16-mixed", num_sanity_val_steps=0)
    fit.fit(module, data)
    assert torch.isfinite(fit.callback_metrics["train/loss"]) and "val/natural/acc" in fit.callback_metrics


def test_a_checkpoint_written_before_networks_loads_and_answers_as_it_did():
    """tests/fixtures/networks: a tiny `lit-math fit` checkpoint written before `--model.network` existed, and its
    greedy and beam-3 answers as that code gave them."""
    recorded = json.loads((FIXTURES / "transformer_before_issue16.json").read_text())
    module = Seq2SeqModule.load_from_checkpoint(FIXTURES / "transformer_before_issue16.ckpt").eval()
    assert isinstance(module.network, EncoderDecoder) and module.hparams.get("network") is None
    problems = {name: np.array(values) for name, values in recorded["problems"].items()}
    for beam in (1, 3):
        assert module.translate(problems, beam_size=beam)[1].tolist() == recorded[f"beam{beam}"]


def test_a_checkpoint_written_before_networks_validates_on_its_own_data(run_main):
    code, err = run_main(
        "validate", "--ckpt_path", FIXTURES / "transformer_before_issue16.ckpt", "--data.natural_size", "32"
    )
    assert code == 0, err
    assert "val/natural/acc" in run_main.out


def test_the_cli_trains_any_network_and_its_checkpoint_serves_every_command(run_main, tmp_path):
    quick = [
        *("--data.class_path", "lit_math.data.GCDDataModule", "--data.base", "10", "--data.batch_size", "64"),
        *("--data.epoch_size", "256", "--data.per_class", "1", "--data.natural_size", "32"),
        *("--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu"),
        *("--trainer.logger", "false", "--checkpoint.dirpath", tmp_path / "ckpt"),
    ]
    network = ["--model.network", "lit_math.model.GRUSeq2Seq", "--model.network.hidden", "24"]
    code, err = run_main("fit", *quick, *network)
    assert code == 0, err
    ckpt = tmp_path / "ckpt" / "last.ckpt"
    saved = torch.load(ckpt, weights_only=True)["hyper_parameters"]
    assert saved["network"]["init_args"]["hidden"] == 24 and "d_model" not in saved
    assert run_main("translate", "--ckpt", ckpt, "--beam", "2", "12", "18")[0] == 0
    assert "beam 2:" in run_main.out
    assert run_main("validate", "--ckpt_path", ckpt, *network)[0] == 0  # the checkpoint's network, given again
    code, err = run_main("validate", "--ckpt_path", ckpt, "--model.network", "lit_math.model.LSTMSeq2Seq")
    assert code == 2 and "asks for model network=LSTMSeq2Seq(hidden=256" in err
    spec = saved_data(torch.load(ckpt, weights_only=True))
    (tmp_path / "data.yaml").write_text(json.dumps({"data": spec}))
    assert run_main("cross-eval", "--ckpt", ckpt, "--data", tmp_path / "data.yaml", "--accelerator", "cpu")[0] == 0
    assert "| trained on / tested on |" in run_main.out


@pytest.mark.parametrize(
    "network,message",
    [
        (
            EncoderOnly(d_model=16, n_layers=1, n_heads=2, max_answer_len=4),
            "network EncoderOnly reads answers of at most max_answer_len=4 tokens, but task gcd has answers of up to 9",
        ),
        (
            MLP(max_problem_len=8),
            "network MLP takes problems of at most max_problem_len=8 tokens, but task gcd has problems of up to 17",
        ),
    ],
)
def test_a_network_that_cannot_read_out_the_answers_is_refused_at_start(network, message):
    with pytest.raises(ConfigError, match=message):
        Seq2SeqModule(task=GCDTask(base=10).config(), network=network)


def test_the_cli_refuses_in_one_line(run_main):
    code, err = run_main(
        "fit", "--data.class_path", "lit_math.data.GCDDataModule", "--model.network", "lit_math.model.EncoderOnly",
        "--model.network.max_answer_len", "3", "--trainer.accelerator", "cpu", "--trainer.logger", "false",
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "max_answer_len=3" in err


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            {"d_model": 64, "network": GRUSeq2Seq()},
            "model d_model=64 sets the default encoder-decoder transformer, but the network is GRUSeq2Seq",
        ),
        ({"network": {"class_path": "lit_math.model.Perceiver"}}, "network 'lit_math.model.Perceiver' is not one of"),
        ({"network": {"class_path": "lit_math.model.MLP", "init_args": {"width": 3}}}, "network lit_math.model.MLP"),
    ],
)
def test_bad_network_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Seq2SeqModule(task=GCDTask(base=10).config(), **kwargs)


@pytest.mark.parametrize(
    "network,message",
    [
        (lambda: LSTMSeq2Seq(hidden=0), "hidden must be an integer >= 1, got 0"),
        (lambda: DecoderOnly(d_model=30, n_heads=4), "n_heads=4 must divide d_model=30"),
        (lambda: Looped(loops=0), "loops must be an integer >= 1, got 0"),
        (lambda: MLP(dropout=1.5), r"dropout must be in \[0, 1\), got 1.5"),
    ],
)
def test_bad_knobs_are_refused(network, message):
    with pytest.raises(ConfigError, match=message):
        network()


def test_looped_layers_share_their_weights():
    task = GCDTask(base=10)
    looped = Looped(d_model=32, n_heads=4, loops=3).build(len(task.vocabulary), task.max_source_len, 8)
    plain = EncoderDecoder(d_model=32, n_enc_layers=1, n_dec_layers=1, n_heads=4).build(
        len(task.vocabulary), task.max_source_len, 8
    )
    assert len(looped.encoder) == 3 and looped.encoder[0] is looped.encoder[2]
    assert sum(p.numel() for p in looped.parameters()) == sum(p.numel() for p in plain.parameters())


DDP_NETWORKS = ["DecoderOnly", "LSTMSeq2Seq"]  # one of each decoding state: a key/value cache, a hidden state


def test_networks_train_under_ddp_and_validate_as_one_process(tmp_path):
    """Two CPU processes (gloo), from a script (Lightning's launcher re-executes the command line)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ddp_networks_run.py"), str(tmp_path), *DDP_NETWORKS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for name in DDP_NETWORKS:
        ddp = json.loads((tmp_path / f"{name}.json").read_text())
        module = Seq2SeqModule.load_from_checkpoint(tmp_path / f"{name}.ckpt")
        assert type(module.network).__name__ == name
        results = trainer(tmp_path).validate(module, tiny_data(natural_size=150, per_class=2), verbose=False)
        single = {k: v for per_set in results for k, v in per_set.items()}
        for metric in ("val/natural/acc", "val/classes/acc"):
            assert ddp[metric] == pytest.approx(single[metric], abs=1e-7), (name, metric)
        assert ddp["val/natural/loss"] == pytest.approx(single["val/natural/loss"], rel=1e-4)
