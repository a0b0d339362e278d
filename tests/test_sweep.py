"""`lit-math sweep`: a grid of fits that finishes, is resumed without rerunning what finished, and is summarised;
bad grids refused in one line before any fit starts."""

import json
import re
from pathlib import Path

import pytest
from torch.utils.tensorboard import SummaryWriter

from lit_math.sweep import (
    RUN,
    Axis,
    Sweep,
    markdown,
    parser,
    plan,
    plot,
    read_sweep_file,
    settings,
    summarise,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "gcd" / "tiny.yaml"
SMALL = [
    *("--grid", "data.epoch_size=512", "--grid", "trainer.max_epochs=1", "--grid", "data.classes=10"),
    *("--grid", "data.per_class=2", "--grid", "data.natural_size=100", "--grid", "trainer.log_every_n_steps=1"),
    *("--grid", "trainer.enable_progress_bar=false"),
]
"""Fixed knobs (grid axes of one value): two training steps, an evaluation of 120 problems."""


def files_of(folder: Path) -> dict[str, int]:
    """Every file of a run folder and when it was last written."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_a_two_by_two_sweep_finishes_is_resumed_and_summarised(tmp_path, run_main):
    out = tmp_path / "sweep"
    command = ["sweep", "--config", TINY, "--grid", "data.base=10,30", "--grid", "model.lr=1e-3,2e-3", *SMALL]
    code, err = run_main(*command, "--out", out, "--cross", "--parallel", "2")
    assert code == 0, err[-3000:]
    names = ["base=10,lr=1e-3", "base=10,lr=2e-3", "base=30,lr=1e-3", "base=30,lr=2e-3"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "cross") == names
    for name in names:
        assert (out / name / "done.json").is_file() and (out / name / RUN / "checkpoints" / "last.ckpt").is_file()
    summary = (out / "summary.md").read_text()
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"
    for base, lr in [("10", "1e-3"), ("10", "2e-3"), ("30", "1e-3"), ("30", "2e-3")]:
        assert f"| {base} | {lr} | 1 |" in summary
    assert "gcd/learned final" in summary and "val/natural/acc best" in summary
    cross = summary.split("## Cross table")[1]
    assert all(f"| {name} |" in cross for name in names)  # every run on every point's data
    assert "n/a (other vocabulary)" in cross  # a base-10 model cannot read base-30 problems
    learned = summary.split("## Learned GCDs")[1]
    assert all(re.search(rf"\| {name} \| \d+ \| ", learned) for name in names)

    before = {name: files_of(out / name / RUN) for name in names}
    (out / names[0] / "done.json").unlink()  # as if stopped after its last checkpoint, before it said so
    code, err = run_main(*command, "--out", out)
    assert code == 0, err[-3000:]
    assert f"{names[0]} (resume)" in run_main.out
    assert all(f"{name} (finished)" in run_main.out for name in names[1:])
    assert "--ckpt_path" in (out / names[0] / "fit.log").read_text().split("$ lit-math")[-1]
    assert all(files_of(out / name / RUN) == before[name] for name in names[1:])  # not run, nothing rewritten

    changed = [str(word).replace("data.classes=10", "data.classes=12") for word in command]
    code, err = run_main(*changed, "--out", out)  # another grid into the same folder
    assert code == 2 and "was run with other settings" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("grid", "said"),
    [
        (["data.bsae=2,3"], "--data.bsae is not an option of GCDDataModule; did you mean --data.base?"),
        (["data.base="], "data.base needs a list of values"),
        (["data.base=10,,30"], "none of them empty"),
        (["data.base=10,ten"], "point data.base=ten: --data.base must be an integer, got 'ten'"),
        (["model.lr=fast"], "--model.lr must be a number, got 'fast'"),
        (["data.base=1"], "base"),
        (["base"], "is not KNOB=V1,V2"),
        (["data.base=10", "data.base=30"], "--grid data.base is given twice"),
    ],
)
def test_a_bad_grid_is_one_line_before_any_fit_starts(grid, said, tmp_path, run_main):
    words = [w for knob in grid for w in ("--grid", knob)]
    code, err = run_main("sweep", "--config", TINY, *words, "--out", tmp_path / "sweep")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and said in err, err
    assert not (tmp_path / "sweep").exists()


def test_seeds_are_averaged_and_unfinished_points_counted(tmp_path):
    """Two seeds a base: the final and best values' mean and spread; a seed that did not finish is said."""
    sweep = Sweep((str(TINY),), (Axis("data.base", ("10", "30")),), 2, str(tmp_path), str(tmp_path))
    curves = {"base=10,seed=0": [0.2, 0.5, 0.4], "base=10,seed=1": [0.3, 0.6, 0.5], "base=30,seed=0": [0.1, 0.9]}
    for name, values in curves.items():
        with SummaryWriter(str(tmp_path / name / RUN)) as writer:
            for step, value in enumerate(values):
                writer.add_scalar("val/natural/acc", value, step)
                writer.add_scalar("val/natural/loss", 1 - value, step)
        (tmp_path / name / "done.json").write_text("{}")
    metrics, rows = summarise(sweep, None)
    assert metrics == ["val/natural/acc"]  # the default: accuracies, not losses
    text = markdown(sweep, metrics, rows)
    assert "| 10 | 2 | 0.450 ± 0.071 | 0.550 ± 0.071 |" in text
    assert "| 30 | 1 (1 not finished) | 0.900 | 0.900 |" in text
    metrics, rows = summarise(sweep, ["val/natural/loss"])
    assert rows[0].best["val/natural/loss"] == pytest.approx([0.5, 0.4])  # the lowest loss is the best
    plot(sweep, metrics, rows, tmp_path / "summary.png")
    assert (tmp_path / "summary.png").stat().st_size > 0
    assert [point.seed for point in sweep.points()] == [0, 1, 0, 1]
    assert "--data.seed" in sweep.fit_words(sweep.points()[1])


def settings_of(command: list) -> Sweep:
    """The sweep a `lit-math sweep` command line asks for (its points' data seeds as `validate` finds them)."""
    return validate(settings(parser().parse_args([str(word) for word in command[1:]]))[0])


@pytest.mark.parametrize("name", ["gcd_bases", "eigen_laws"])
def test_the_shipped_sweeps_are_valid(name, tmp_path):
    path = ROOT / "configs" / "sweeps" / f"{name}.yaml"
    sweep, metrics, cross = settings(parser().parse_args(["--sweep", str(path), "--out", str(tmp_path)]))
    sweep = validate(sweep)  # every point parsed and instantiated by the CLI
    assert len(sweep.points()) == len(read_sweep_file(path)["grid"][0].values) and metrics
    assert [what for _, _, what in plan(sweep)] == ["run"] * len(sweep.points())
    assert cross == (name == "eigen_laws")
    knob = sweep.axes[0].knob  # a --grid replaces the file's axis of its knob, in its place
    shorter, _, _ = settings(parser().parse_args(["--sweep", str(path), "--grid", f"{knob}=x", "--out", str(tmp_path)]))
    assert shorter.axes == (Axis(knob, ("x",)), *sweep.axes[1:])
    assert json.loads(json.dumps(sweep.record(sweep.points()[0])))["fit"][0] == "--config"


@pytest.mark.slow  # a two-worker Dask cluster: 20-30 s; the local-cluster test stays in the fast suite
def test_points_run_on_a_dask_cluster_and_a_failed_one_is_named(tmp_path, run_main):
    pytest.importorskip("distributed")
    out = tmp_path / "sweep"
    (out / "base=30" / "fit.log").mkdir(parents=True)  # this point cannot write its log: it fails, not the other
    command = ["sweep", "--config", TINY, "--grid", "data.base=10,30", *SMALL, "--out", out, "--executor", "dask"]
    code, err = run_main(*command)
    assert code == 1 and "base=30 failed: IsADirectoryError" in err and "1 of 2 points failed (base=30)" in err
    assert (out / "base=10" / "done.json").is_file() and not (out / "base=30" / "done.json").exists()
    assert "| 30 | 0 (1 not finished) | n/a |" in (out / "summary.md").read_text()
    assert [what for _, _, what in plan(settings_of(command))] == ["finished", "run"]  # a rerun retries it
