"""The `lit-math` command as a user runs it: fit, validate, translate, and its errors."""

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_math.analysis.history import read_history
from lit_math.cli import build_cli
from lit_math.data import FAMILIES, data_from_spec
from lit_math.data.config import load_data_config
from lit_math.encoding import DecodeError, IntegerCodec
from lit_math.model import Seq2SeqModule

from .helpers import trainer

ROOT = Path(__file__).resolve().parents[1]
QUICK = [
    *("--trainer.max_epochs", "1", "--trainer.log_every_n_steps", "2", "--trainer.enable_progress_bar", "false"),
    *("--data.epoch_size", "2560", "--data.per_class", "5", "--data.natural_size", "200", "--throughput.window", "2"),
]


def lit_math(*args, cwd):
    """Runs `lit-math` in `cwd` (a temporary folder: the tests never write into the repository)."""
    return subprocess.run(
        [sys.executable, "-m", "lit_math", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


TINY = ROOT / "configs" / "gcd" / "tiny.yaml"
SMALL_EVAL = ["--data.per_class", "5", "--data.natural_size", "200", "--trainer.logger", "false"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    result = lit_math("fit", "--config", TINY, *QUICK, "--trainer.logger.init_args.save_dir", out, cwd=out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / "gcd_tiny" / "version_0"


@pytest.fixture
def ckpt(run_dir):
    return run_dir / "checkpoints" / "last.ckpt"


def test_fit_writes_tensorboard_logs_and_a_checkpoint(run_dir):
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "config.yaml").is_file()
    events = EventAccumulator(str(run_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/examples_per_s", "val/natural/acc", "val/classes/acc", "val/natural/loss"} <= tags
    assert {"gcd/learned", "gcd_per_class/acc_k001", "gcd/rules/r1_mean_top_share", "lr-AdamW"} <= tags
    assert (run_dir / "gcd_history.jsonl").is_file()
    assert 0 <= events.Scalars("val/natural/acc")[-1].value <= 1


def test_translate_reads_the_checkpoint_back(ckpt, run_main, tmp_path):
    code, err = run_main("translate", "--ckpt", ckpt, "10", "32")
    assert code == 0, err
    answer, source, output = run_main.out.splitlines()
    assert source == "source: + 10 + 1 2"  # base 30
    tokens = output.removeprefix("output: ").split()
    try:
        assert answer == str(IntegerCodec(30).decode(tokens))  # the answer is the reading of the tokens
    except DecodeError:
        assert answer == "(malformed)"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "words,message",
    [
        (["10", "x"], "'x' is not an integer"),
        (["10"], "two integers"),
        (["--device", "nonsense", "1", "2"], "nonsense"),
    ],
)
def test_translate_rejects_bad_input_with_exit_code_2(ckpt, run_main, words, message):
    code, err = run_main("translate", "--ckpt", ckpt, *words)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("content,message", [(None, "no checkpoint at"), (b"not a checkpoint", "not a readable")])
def test_translate_refuses_what_is_not_a_checkpoint(run_main, tmp_path, content, message):
    path = tmp_path / "model.ckpt"
    if content is not None:
        path.write_bytes(content)
    code, err = run_main("translate", "--ckpt", path, "1", "2")
    assert code == 2
    assert message in err


def test_validate_with_the_checkpoint_alone(ckpt, run_main, tmp_path):
    code, err = run_main("validate", "--ckpt_path", ckpt, "--trainer.logger", "false")
    assert code == 0, err[-3000:]
    assert "val/natural/acc" in run_main.out and "val/classes/acc" in run_main.out
    assert not any(tmp_path.iterdir())  # an evaluation writes nothing


def test_validate_refuses_a_checkpoint_that_does_not_fit_the_data(ckpt, run_main):
    code, err = run_main("validate", "--config", TINY, *SMALL_EVAL, "--ckpt_path", ckpt)
    assert code == 0, err[-3000:]
    for wrong in (["--data.base", "10"], ["--data.max_int", "100000000"]):
        code, err = run_main("validate", "--config", TINY, *SMALL_EVAL, *wrong, "--ckpt_path", ckpt)
        assert code == 2
        assert err.strip().splitlines()[-1].startswith("lit-math: error: the checkpoint was trained on task")


def test_a_model_setting_that_contradicts_the_checkpoint_is_an_error(ckpt, run_main):
    code, err = run_main("validate", "--config", TINY, *SMALL_EVAL, "--model.d_model", "128", "--ckpt_path", ckpt)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "lit-math: error: the configuration asks for model d_model=128 (checkpoint: 64); "
        "leave them out to use the checkpoint's"
    )


def test_a_checkpoint_is_evaluated_with_another_beam(ckpt, run_main):
    """Decoding knobs are not the network's: `validate --model.beam_size 2` uses them and reports acc@2."""
    code, err = run_main("validate", "--config", TINY, *SMALL_EVAL, "--model.beam_size", "2", "--ckpt_path", ckpt)
    assert code == 0, err[-3000:]
    assert "val/natural/acc@2" in run_main.out


def test_resuming_with_another_base_leaves_nothing_behind(ckpt, run_main, tmp_path):
    save_dir = ["--trainer.logger.init_args.save_dir", tmp_path / "runs"]
    code, err = run_main("fit", "--config", TINY, "--data.base", "10", "--ckpt_path", ckpt, *save_dir)
    assert code == 2
    assert "the checkpoint was trained on task" in err
    assert not any(tmp_path.iterdir())


def test_predict_writes_every_answer(ckpt, run_main, tmp_path):
    out = tmp_path / "preds"
    code, err = run_main("predict", "--config", TINY, *SMALL_EVAL, "--ckpt_path", ckpt, "--predictions.output_dir", out)
    assert code == 0, err[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds"]
    natural = [json.loads(line) for line in (out / "natural.jsonl").read_text().splitlines()]
    classes = [json.loads(line) for line in (out / "classes.jsonl").read_text().splitlines()]
    assert len(natural) == 200 and len(classes) == 5 * 100
    for row in natural + classes:
        truth = math.gcd(row["problem"]["a"], row["problem"]["b"])
        assert row["correct"] == (row["answer"] == str(truth))
    assert {math.gcd(r["problem"]["a"], r["problem"]["b"]) for r in classes} == set(range(1, 101))


@pytest.mark.parametrize(
    "override,message",
    [
        (["--data.base", "1"], "base must be an integer 2..100000, got 1"),
        (["--data.max_int", "1"], "max_int must be an integer 2..2147483648, got 1"),
        (["--data.operands", "gaussian"], "operands must be one of uniform, loguniform; got 'gaussian'"),
        (
            ["--data.outcomes", "zipf"],
            "outcomes must be one of natural, inverse, inverse_sqrt, inverse_1_5, uniform; got 'zipf'",
        ),
        (["--data.seed", "-1"], "seed must be an integer >= 0, got -1"),
        (["--data.epoch_size", "100"], "epoch_size (at least batch_size=256) must be an integer >= 256, got 100"),
        (["--model.n_heads", "5"], "n_heads=5 must divide d_model=64 (allowed: its divisors)"),
        (["--model.d_model", "0"], "d_model must be an integer >= 1, got 0"),
        (["--model.ffn_dim", "-3"], "ffn_dim must be an integer >= 1, got -3"),
        (["--model.eval_max_len", "0"], "eval_max_len must be an integer 1..7, got 0"),
        (["--model.eval_max_len", "8"], "eval_max_len must be an integer 1..7, got 8"),
        (["--model.beam_size", "101"], "beam_size must be an integer 1..100, got 101"),
        (["--model.weight_decay", "-1"], "lr must be > 0 and weight_decay >= 0; got lr=0.001, weight_decay=-1.0"),
        (["--model.schedule", "linear"], "schedule must be one of constant, inverse_sqrt, cosine; got 'linear'"),
        (["--ckpt_path", "missing.ckpt"], "no checkpoint at 'missing.ckpt'"),
    ],
)
def test_bad_configuration_stops_with_one_line(run_main, tmp_path, override, message):
    code, err = run_main("fit", "--config", TINY, *override)
    assert code == 2
    assert err.strip().splitlines()[-1] == f"lit-math: error: {message}"
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_help_lists_the_family_knobs_and_translate(run_main):
    code, _ = run_main("fit", "--help")
    assert code == 0
    for text in ("--data.help GCDDataModule", "operands:", "max_int:", "--model.d_model"):
        assert text in run_main.out
    families = re.findall(r"^--data lit_math\.data\.(\w+)", run_main.out, flags=re.MULTILINE)
    assert sorted(families) == sorted(FAMILIES)  # every registered family, none listed by hand
    run_main("--help")
    assert "lit-math translate" in run_main.out


PAPER = {"d_model": 512, "n_enc_layers": 4, "n_dec_layers": 4, "n_heads": 8}
EXPERIMENTS = {
    "base10": (10, "uniform", "natural"),
    "base30": (30, "uniform", "natural"),
    "base31": (31, "uniform", "natural"),
    "base2023": (2023, "uniform", "natural"),
    "loguniform_operands": (30, "loguniform", "natural"),
    "loguniform_outcomes": (30, "uniform", "inverse"),
    "uniform_outcomes": (30, "uniform", "uniform"),
    "tiny": (30, "uniform", "natural"),
}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_config_is_the_experiment_it_names(name):
    config = ROOT / "configs" / "gcd" / f"{name}.yaml"
    cli = build_cli(["--config", str(config), "--trainer", str(ROOT / "configs/trainer/cpu.yaml")], run=False)
    task = cli.datamodule.task
    assert (task.base, task.operands, task.outcomes) == EXPERIMENTS[name]
    assert cli.model.task == task and task.max_int == 10**6
    if name != "tiny":
        assert {k: cli.model.hparams[k] for k in PAPER} == PAPER
        assert (cli.datamodule.epoch_size, cli.datamodule.batch_size) == (300_000, 256)


SYMBOLIC = sorted((ROOT / "configs" / "integration").glob("*.yaml")) + sorted((ROOT / "configs" / "ode").glob("*.yaml"))
SYMBOLIC = [p for p in SYMBOLIC if p.stem != "textbook"]  # an evaluation set, tested in test_textbook


@pytest.mark.parametrize("config", SYMBOLIC, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_symbolic_config_is_the_experiment_it_names(config):
    cli = build_cli(["--config", str(config), "--trainer", str(ROOT / "configs/trainer/cpu.yaml")], run=False)
    task, name = cli.datamodule.task, config.stem.removesuffix("_cpu")
    assert (task.mode if task.family == "integration" else f"ode{task.order}") == name
    assert cli.model.task == task
    if config.stem.endswith("_cpu"):
        assert task.max_ops <= 5 and cli.model.hparams.d_model <= 128
    else:
        model = {k: cli.model.hparams[k] for k in ("d_model", "n_enc_layers", "n_dec_layers", "n_heads")}
        assert model == {"d_model": 512, "n_enc_layers": 6, "n_dec_layers": 6, "n_heads": 8}
        assert (task.max_ops, task.max_len) == (15, 512)


@pytest.mark.parametrize("preset", sorted((ROOT / "configs" / "trainer").glob("*.yaml")), ids=lambda p: p.stem)
def test_trainer_presets_merge_into_an_experiment(preset, run_main):
    code, err = run_main("fit", "--config", ROOT / "configs/gcd/base30.yaml", "--trainer", preset, "--print_config")
    assert code == 0, err[-2000:]
    config = yaml.safe_load(run_main.out)
    for key, value in yaml.safe_load(preset.read_text()).items():
        assert config["trainer"][key] == value
    assert config["trainer"]["logger"]["init_args"]["name"] == "gcd_base30"


def test_report_of_a_run_and_of_a_lone_checkpoint(run_dir, ckpt, run_main, tmp_path):
    code, err = run_main("report", run_dir)
    from_history = run_main.out
    assert code == 0, err[-2000:]
    lone = tmp_path / "lone.ckpt"
    shutil.copy(ckpt, lone)
    code, err = run_main("report", lone)
    evaluated = run_main.out
    assert code == 0, err[-2000:]

    def table(out):
        return [line for line in out.splitlines() if line[:4].strip().isdigit()]

    assert len(table(from_history)) == 100
    assert table(evaluated) == table(from_history)  # last.ckpt holds the weights of the last epoch
    assert "Learned (" in evaluated and "R3 unlearned classes" in evaluated


def test_a_resumed_run_continues_its_history_in_its_new_folder(run_dir, ckpt, tmp_path):
    save_dir = tmp_path / "runs"
    shutil.copytree(run_dir.parent.parent, save_dir)  # the fixture's runs, left untouched for other tests
    resumed = lit_math(
        "fit",
        "--config",
        TINY,
        *QUICK,
        "--trainer.max_epochs",
        "2",
        "--ckpt_path",
        save_dir / "gcd_tiny" / "version_0" / "checkpoints" / "last.ckpt",
        "--trainer.logger.init_args.save_dir",
        save_dir,
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    history = read_history(save_dir / "gcd_tiny" / "version_1" / "gcd_history.jsonl")
    assert [r.epoch for r in history] == [0, 1]  # epoch 0 comes from the run it resumed
    assert history[1].examples == 2 * history[0].examples


def data_config(path, **knobs):
    init_args = {"base": 30, "per_class": 2, "natural_size": 100, **knobs}
    path.write_text(yaml.safe_dump({"data": {"class_path": "lit_math.data.GCDDataModule", "init_args": init_args}}))
    return path


def test_cross_eval_table(ckpt, tmp_path, capsys):
    from lit_math.cross_eval import main as cross_eval

    uniform = data_config(tmp_path / "uniform.yaml")
    other_seed = data_config(tmp_path / "other.yaml", eval_seed=7)
    base10 = data_config(tmp_path / "base10.yaml", base=10)
    args = ["--ckpt", str(ckpt), "--ckpt", str(ckpt), "--accelerator", "cpu", "--logdir", str(tmp_path / "tb")]
    assert cross_eval([*args, "--data", str(uniform), "--data", str(other_seed), "--data", str(base10)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[1:] == [f"{c}/{s}" for c in ("uniform", "other", "base10") for s in ("natural", "classes")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:-1]]
    assert lines[-1] == f"lit-math: cross-eval: logged to {tmp_path / 'tb'}"  # where the output went
    assert [row[0] for row in rows] == ["gcd_tiny/version_0"] * 2
    assert rows[0] == rows[1]  # the same checkpoint twice: the same figures
    assert rows[0][5:] == ["n/a (other vocabulary)"] * 2
    module = Seq2SeqModule.load_from_checkpoint(ckpt)
    direct = trainer(tmp_path).validate(module, data_from_spec(load_data_config(uniform)), verbose=False)
    assert rows[0][1] == f"{direct[0]['val/natural/acc']:.3f}"
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_cross_eval_with_a_beam_and_bad_input(ckpt, tmp_path, capsys):
    from lit_math.cross_eval import main as cross_eval

    uniform = data_config(tmp_path / "uniform.yaml")
    assert cross_eval(["--ckpt", str(ckpt), "--data", str(uniform), "--beam-size", "2", "--accelerator", "cpu"]) == 0
    assert "@2)" in capsys.readouterr().out
    (tmp_path / "nodata.yaml").write_text("model: {}\n")
    for extra, message in (
        (["--data", str(tmp_path / "nodata.yaml")], "has no data section"),
        (["--data", str(uniform), "--beam-size", "0"], "--beam-size must be an integer 1..100"),
    ):
        with pytest.raises(SystemExit) as exit_:
            cross_eval(["--ckpt", str(ckpt), *extra])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err


GCD_KNOBS = {"base": 10, "max_int": 1000, "per_class": 2, "natural_size": 50}


@pytest.mark.parametrize(
    "checkpoint,spec",
    [
        (  # Lightning's datamodule_hyper_parameters: the DataModule's hparams hold its class path and every knob
            {
                "datamodule_hyper_parameters": {
                    "_class_path": "lit_math.data.GCDDataModule",
                    "_instantiator": "lightning.pytorch.cli.instantiate_module",
                    **GCD_KNOBS,
                },
                "GCDDataModule": {"class_path": "lit_math.data.gcd.GCDDataModule", "init_args": {"base": 31}},
            },
            {"class_path": "lit_math.data.GCDDataModule", "init_args": GCD_KNOBS},
        ),
        (  # before: hparams without the class path, the spec in the DataModule's state dict, under its class name
            {
                "datamodule_hyper_parameters": GCD_KNOBS,
                "GCDDataModule": {"class_path": "lit_math.data.gcd.GCDDataModule", "init_args": GCD_KNOBS},
                "LearningRateMonitor": {"class_path": "elsewhere.Other", "init_args": {}},
            },
            {"class_path": "lit_math.data.gcd.GCDDataModule", "init_args": GCD_KNOBS},
        ),
        ({"datamodule_hyper_parameters": GCD_KNOBS, "Other": {"class_path": "x.GCDDataModule"}}, None),
        ({}, None),
    ],
    ids=["hparams", "old-state-dict", "no-class-path", "nothing"],
)
def test_saved_data_reads_both_checkpoint_formats(checkpoint, spec):
    from lit_math.checkpoint import saved_data

    assert saved_data(checkpoint) == spec
    if spec is not None:
        assert data_from_spec(spec).task.base == 10  # what `validate --ckpt_path` alone builds


def test_the_cli_overrides_no_private_lightning_method():
    from lightning.pytorch.cli import LightningCLI

    from lit_math.cli import LitMathCLI

    private = [name for name in vars(LitMathCLI) if name.startswith("_") and not name.startswith("__")]
    assert [name for name in private if hasattr(LightningCLI, name)] == []
