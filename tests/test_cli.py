"""The `lit-math` command as a user runs it: fit, validate, translate, and its errors."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_math.cli import build_cli
from lit_math.data import GCDDataModule

ROOT = Path(__file__).resolve().parents[1]
QUICK = [
    *("--trainer.max_epochs", "1", "--trainer.log_every_n_steps", "2", "--trainer.enable_progress_bar", "false"),
    *("--data.epoch_size", "2560", "--data.per_class", "5", "--data.natural_size", "200", "--throughput.window", "2"),
]


def lit_math(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "lit_math", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    result = lit_math("fit", "--config", "configs/gcd/tiny.yaml", *QUICK, "--trainer.logger.init_args.save_dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / "gcd_tiny" / "version_0"


def test_fit_writes_tensorboard_logs_and_a_checkpoint(run_dir):
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "config.yaml").is_file()
    events = EventAccumulator(str(run_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/examples_per_s", "val/natural/acc", "val/classes/acc", "val/natural/loss"} <= tags
    assert 0 <= events.Scalars("val/natural/acc")[-1].value <= 1


def test_translate_reads_the_checkpoint_back(run_dir):
    result = lit_math("translate", "--ckpt", run_dir / "checkpoints" / "last.ckpt", "10", "32")
    assert result.returncode == 0, result.stderr
    answer, source, output = result.stdout.splitlines()
    assert answer.isdigit() or answer == "(malformed)"
    assert source == "source: + 10 + 1 2"  # base 30
    assert output.startswith("output:")


@pytest.mark.parametrize("words,message", [(["10", "x"], "'x' is not an integer"), (["10"], "two integers")])
def test_translate_rejects_bad_problems_with_exit_code_2(run_dir, words, message):
    result = lit_math("translate", "--ckpt", run_dir / "checkpoints" / "last.ckpt", *words)
    assert result.returncode == 2
    assert message in result.stderr


def test_validate_from_checkpoint_and_refuse_another_vocabulary(run_dir):
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    small = ["--data.per_class", "5", "--data.natural_size", "200", "--trainer.logger", "false"]
    result = lit_math("validate", "--config", "configs/gcd/tiny.yaml", *small, "--ckpt_path", ckpt)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "val/natural/acc" in result.stdout
    result = lit_math("validate", "--config", "configs/gcd/tiny.yaml", *small, "--data.base", "10", "--ckpt_path", ckpt)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("lit-math: error: the checkpoint was trained on task")


def test_predict_writes_every_answer(run_dir, tmp_path):
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    small = ["--data.per_class", "5", "--data.natural_size", "200", "--trainer.logger", "false"]
    result = lit_math(
        "predict",
        "--config",
        "configs/gcd/tiny.yaml",
        *small,
        "--ckpt_path",
        ckpt,
        "--predictions.output_dir",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    natural = [json.loads(line) for line in (tmp_path / "natural.jsonl").read_text().splitlines()]
    classes = [json.loads(line) for line in (tmp_path / "classes.jsonl").read_text().splitlines()]
    assert len(natural) == 200 and len(classes) == 5 * 100
    for row in natural + classes:
        truth = math.gcd(row["problem"]["a"], row["problem"]["b"])
        assert row["correct"] == (row["answer"] == str(truth))
        assert row["output"].startswith("+") or row["answer"] == "(malformed)"
    assert {math.gcd(r["problem"]["a"], r["problem"]["b"]) for r in classes} == set(range(1, 101))


@pytest.mark.parametrize(
    "override,message",
    [
        (["--data.base", "1"], "base must be an integer 2..100000, got 1"),
        (["--data.max_int", "1"], "max_int must be an integer 2..2147483648, got 1"),
        (["--model.n_heads", "5"], "n_heads=5 must divide d_model=64 (allowed: its divisors)"),
    ],
)
def test_bad_configuration_stops_with_one_line(tmp_path, override, message):
    result = lit_math("fit", "--config", ROOT / "configs/gcd/tiny.yaml", *override, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"lit-math: error: {message}"
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_unknown_distribution_name_is_refused_by_the_parser():
    result = lit_math("fit", "--config", "configs/gcd/tiny.yaml", "--data.operands", "gaussian")
    assert result.returncode == 2
    assert "uniform" in result.stderr and "loguniform" in result.stderr and "gaussian" in result.stderr


def test_help_lists_the_family_knobs():
    result = lit_math("fit", "--help")
    assert result.returncode == 0
    for text in ("--data.help GCDDataModule", "operands:", "max_int:", "--model.d_model"):
        assert text in result.stdout


@pytest.mark.parametrize("config", sorted((ROOT / "configs" / "gcd").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_config_builds_its_data_and_model(config):
    cli = build_cli(["--config", str(config), "--trainer", str(ROOT / "configs/trainer/cpu.yaml")], run=False)
    assert isinstance(cli.datamodule, GCDDataModule)
    assert cli.model.task == cli.datamodule.task
    assert cli.trainer.max_epochs >= 1


@pytest.mark.parametrize("preset", sorted((ROOT / "configs" / "trainer").glob("*.yaml")), ids=lambda p: p.stem)
def test_trainer_presets_merge_into_an_experiment(preset):
    result = lit_math("fit", "--config", "configs/gcd/base30.yaml", "--trainer", preset, "--print_config")
    assert result.returncode == 0, result.stderr[-2000:]
    config = yaml.safe_load(result.stdout)
    for key, value in yaml.safe_load(preset.read_text()).items():
        assert config["trainer"][key] == value
    assert config["trainer"]["logger"]["init_args"]["name"] == "gcd_base30"
