"""`lit-math report` on a saved history."""

import pytest

from lit_math.analysis.history import HISTORY_FILE, EpochRecord, append_record
from lit_math.report import report


def counts(rows: dict[int, int], classes: int = 6) -> list[list[int]]:
    """Each class k predicts rows[k] for all of its 10 pairs."""
    table = [[0] * (classes + 2) for _ in range(classes)]
    for k, prediction in rows.items():
        table[k - 1][prediction - 1] = 10
    return table


@pytest.fixture
def run(tmp_path):
    ones = counts({k: 1 for k in range(1, 7)})
    later = counts({1: 1, 2: 2, 3: 3, 4: 2, 5: 2, 6: 6})  # 5 predicts 2, which does not divide it
    records = [
        EpochRecord(0, 100, 25_600, ones, [1], joined=[1], base=30),
        EpochRecord(1, 200, 51_200, ones, [1], base=30),
        EpochRecord(2, 300, 2_560_000, later, [1, 2, 3, 6], joined=[2, 3, 6], base=30),
    ]
    for record in records:
        append_record(tmp_path / HISTORY_FILE, record)
    return tmp_path


def test_report_prints_the_table_learned_rules_and_steps(run, capsys):
    assert report([str(run)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# GCD report: epoch 2, step 300, 2,560,000 examples, base 30, learned at >= 0.9"
    rows = {line.split()[0]: line.split()[1:] for line in out[3:9]}
    assert rows["4"] == ["2", "1.00", "0.00"] and rows["6"] == ["6", "1.00", "1.00", "yes"]
    assert "Learned (4): 1, 2, 3, 6" in out
    assert "R2 learned beyond the products of the base's primes (grokked): none" in out
    assert "R3 unlearned classes predicting their largest learned divisor: 0.500; not explained: [5]" in out
    assert "Learned-GCD curve (step: count): 100: 1, 200: 1, 300: 4" in out
    assert "- epoch 2, 2.6M examples: +2, +3, +6" in out
    assert "Learned since: 1 (epoch 0), 2 (epoch 2), 3 (epoch 2), 6 (epoch 2)" in out


def test_markdown_and_png(run, tmp_path, capsys):
    png = tmp_path / "report.png"
    assert report([str(run / HISTORY_FILE), "--format", "markdown", "--png", str(png), "--base", "31"]) == 0
    out = capsys.readouterr().out
    assert "| 6 | 6 | 1.00 | 1.00 | yes |" in out
    assert "(grokked): [2, 3, 6]" in out  # in base 31, every learned GCD but 1 is beyond the base's primes
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.strip().splitlines()[-1] == f"wrote {png}"  # it says which file it wrote


def test_another_threshold_recomputes_every_learned_set(run, capsys):
    assert report([str(run), "--threshold", "0.05"]) == 0  # class 5 answers 2: never right, still unlearned
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("learned at >= 0.05")
    assert "Learned (4): 1, 2, 3, 6" in out
    assert "Learned-GCD curve (step: count): 100: 1, 200: 1, 300: 4" in out
    table_learned = [line.split()[0] for line in out[3:9] if line.endswith("yes")]
    assert table_learned == ["1", "2", "3", "6"]  # the table and the list agree


@pytest.mark.parametrize(
    "make,extra,message",
    [
        (None, [], "no such run folder"),
        ("folder", [], "has neither gcd_history.jsonl"),
        ("garbage", [], "gcd_history.jsonl:1: not a history record"),
        ("list", [], "gcd_history.jsonl:1: not a history record"),
        ("history", ["--threshold", "0"], "--threshold must be in (0, 1], got 0.0"),
        ("history", ["--base", "1"], "--base must be an integer >= 2, got 1"),
        ("history", ["--png", "/nonexistent/x.png"], "--png needs a .png file in an existing folder"),
        ("history", ["--png", "report.pdf"], "--png needs a .png file"),
    ],
)
def test_report_refuses_what_it_cannot_read(tmp_path, capsys, make, extra, message):
    path = tmp_path / "run"
    if make is not None:
        path.mkdir()
    contents = {"garbage": "not json\nmore\n", "list": "[1, 2]\n"}
    if make in contents:
        (path / HISTORY_FILE).write_text(contents[make])
    if make == "history":
        append_record(path / HISTORY_FILE, EpochRecord(0, 10, 2560, counts({1: 1}), [1], base=30))
    with pytest.raises(SystemExit) as exit_:
        report([str(path), *extra])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_error_analysis_report_of_a_run_of_its_checkpoint_and_of_a_lone_copy(tmp_path, capsys):
    """Any family with ErrorAnalysis: the history of a run, read back; a lone checkpoint evaluated anew agrees."""
    import shutil

    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import TensorBoardLogger

    from lit_math.analysis.error_history import ERROR_HISTORY_FILE, ErrorRecord
    from lit_math.analysis.history import read_history
    from lit_math.callbacks import ErrorAnalysis
    from lit_math.data import LinearAlgebraDataModule
    from lit_math.model import Seq2SeqModule

    from .helpers import TINY_MODEL, trainer

    data = LinearAlgebraDataModule(operation="eigendecomposition", rows=2, epoch_size=128, eval_size=40, seed=2)
    logger = TensorBoardLogger(tmp_path, name="run")
    every_epoch = ModelCheckpoint(save_top_k=-1)
    fit = trainer(
        tmp_path, max_epochs=2, logger=logger, enable_checkpointing=True, callbacks=[ErrorAnalysis(), every_epoch]
    )
    fit.fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)
    run = tmp_path / "run" / "version_0"
    history = read_history(run / ERROR_HISTORY_FILE, ErrorRecord)
    assert [(r.epoch, r.step, r.examples) for r in history] == [(0, 2, 128), (1, 4, 256)]
    assert history[-1].problems("valid") == 40 and set(history[-1].sets["valid"]["among_errors"]) == {
        "malformed",
        "values_right",
        "unit_norm",
        "orthogonal",
    }

    png = tmp_path / "errors.png"
    assert report([str(run), "--png", str(png)]) == 0 and png.stat().st_size > 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# Error analysis: epoch 1, step 4, 256 examples" and out[-1] == f"wrote {png}"
    assert out[2] == "Classes: condition number decade, floor(log10 cond)"
    accuracy = history[-1].accuracy("valid")
    assert f"## valid: accuracy {accuracy:.3f} over 40 problems" in out
    assert any(line.startswith("Among the ") and "values_right" in line for line in out) == (accuracy < 1)
    assert out[out.index("## Accuracy over training") + 2].split()[:2] == ["step", "examples"]

    first = next((run / "checkpoints").glob("epoch=0-*.ckpt"))
    assert report([str(first)]) == 0  # that moment of the run: one record, no curve
    out = capsys.readouterr().out
    assert out.startswith("# Error analysis: epoch 0, step 2, 128 examples") and "over training" not in out

    lone = tmp_path / "elsewhere" / "last.ckpt"
    lone.parent.mkdir()
    shutil.copy(next((run / "checkpoints").glob("epoch=1-*.ckpt")), lone)
    assert report([str(lone), "--format", "markdown"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# Error analysis: epoch 1, step 4"  # evaluated now: the same sets, the same answers
    assert f"## valid: accuracy {accuracy:.3f} over 40 problems" in out and "|---:|---:|---:|" in out

    with pytest.raises(SystemExit):
        report([str(run), "--threshold", "0.5"])
    assert "--threshold and --base apply to GCD runs" in capsys.readouterr().err
