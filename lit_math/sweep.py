"""`lit-math sweep`: one `fit` per point of a grid of knobs (and seeds), resumably, then the table and figure of
chosen metrics against the swept knob, and the cross table of every run on every point's data.

Why each point is a `lit-math fit` in a process of its own: a point is then exactly the run a user would start
by hand (same parser, checks, callbacks, checkpoints, run folder), a crash or a SIGTERM ends one point and not
the sweep, and the points run unchanged here, in `--parallel` processes or on a Dask cluster (the executors of
`lit-math generate`). Every point's command line is parsed and instantiated here first, so a bad grid is one
line before any fit starts.

A point's folder is `OUT/<point>/`: `point.json` (its fit command), the run (`version_0/`: TensorBoard events,
`config.yaml`, `checkpoints/last.ckpt`), `fit.log`, and `done.json` once its fit has finished. Rerunning the
command skips finished points and resumes an interrupted one from its `last.ckpt`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from lit_math.errors import ConfigError, check_int, shown

SWEEP_KEYS = ("config", "grid", "seeds", "metrics", "cross")
"""What a sweep file may hold (the command's options of the same names)."""
KNOB = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
DESCRIPTION = """Run a `fit` for every point of a grid of knobs (and seeds), resumably, then write OUT/summary.md
and OUT/summary.png: the final and best value of chosen metrics against the swept knobs."""
RUN = "version_0"
"""The run folder inside a point's folder (`name/version_N`, as cross-eval labels runs)."""
DEFAULT_METRICS = re.compile(r"val/[^/]+/acc|gcd/learned")
"""Without --metrics: every evaluation set's accuracy, and the number of learned GCDs where it is logged."""


@dataclass(frozen=True)
class Axis:
    """One swept knob (`data.base`) and its values, as command-line text; a single value is fixed, not swept."""

    knob: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Point:
    """One run of the sweep: a value of every axis, and its seed (None: the config's own seeds)."""

    settings: tuple[tuple[str, str], ...]
    seed: int | None
    name: str
    """Its folder's name: the swept knobs' values, and the seed."""
    group: str
    """The same without the seed: points of one group are averaged."""


@dataclass(frozen=True)
class Sweep:
    """Everything a point needs to run, anywhere (picklable: it is sent to executor processes)."""

    configs: tuple[str, ...]
    axes: tuple[Axis, ...]
    seeds: int
    out: str
    cwd: str
    data_seed: bool = True
    """Whether seeds also set the data's `seed` knob (the stream), besides `seed_everything` (the weights)."""

    @property
    def swept(self) -> list[Axis]:
        return [axis for axis in self.axes if len(axis.values) > 1]

    def points(self) -> list[Point]:
        labels = _short_names([axis.knob for axis in self.swept])
        combos: list[tuple[tuple[str, str], ...]] = [()]
        for axis in self.axes:
            combos = [(*combo, (axis.knob, value)) for combo in combos for value in axis.values]
        seeds: list[int | None] = list(range(self.seeds)) if self.seeds > 1 else [None]
        points = []
        for combo in combos:
            values = dict(combo)
            group = ",".join(f"{labels[a.knob]}={_safe(values[a.knob])}" for a in self.swept) or "run"
            for seed in seeds:
                name = group if seed is None else f"{group},seed={seed}"
                points.append(Point(combo, seed, name, group))
        names = [p.name for p in points]
        if len(set(names)) < len(names):
            raise ConfigError(
                f"two points of the grid get the same folder name ({_first_repeat(names)}): make the "
                "values of each knob differ in letters, digits, '.', '-' or '+'"
            )
        return points

    @property
    def shown_configs(self) -> list[str]:
        """The configs as the user would name them (from the folder the sweep ran in)."""
        return [os.path.relpath(config, self.cwd) for config in self.configs]

    def folder(self, point: Point) -> Path:
        return Path(self.out) / point.name

    def fit_words(self, point: Point) -> list[str]:
        """The point's `lit-math fit` arguments (without `fit` and without --ckpt_path)."""
        words = [word for config in self.configs for word in ("--config", config)]
        for knob, value in point.settings:
            words += [f"--{knob}", value]
        if point.seed is not None:
            words += ["--seed_everything", str(point.seed)] + (
                ["--data.seed", str(point.seed)] if self.data_seed else []
            )
        logger = {
            "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
            "init_args": {"save_dir": self.out, "name": point.name, "version": 0},
        }
        checkpoints = str(self.folder(point) / RUN / "checkpoints")
        return [
            *words,
            "--trainer.logger",
            json.dumps(logger),
            "--checkpoint.dirpath",
            checkpoints,
            "--checkpoint.save_last",
            "true",
        ]

    def last_checkpoint(self, point: Point) -> Path:
        return self.folder(point) / RUN / "checkpoints" / "last.ckpt"

    def record(self, point: Point) -> dict[str, Any]:
        """What a point's folder must have been run with to count as this point (point.json)."""
        digests = {config: hashlib.sha256(Path(config).read_bytes()).hexdigest() for config in self.configs}
        return {"fit": self.fit_words(point), "configs_sha256": digests}


def _short_names(knobs: list[str]) -> dict[str, str]:
    """`base` for `data.base`, unless two swept knobs end alike (then the whole name)."""
    ends = [knob.rsplit(".", 1)[-1] for knob in knobs]
    return {knob: end if ends.count(end) == 1 else knob for knob, end in zip(knobs, ends, strict=True)}


def _safe(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]", "_", value)[:40]


def _first_repeat(names: list[str]) -> str:
    return next(name for name in names if names.count(name) > 1)


def _value_text(value: Any) -> str:
    """A value of a sweep file as the command line writes it (YAML's 1.0e-3 is the float 0.001)."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_grid(text: str) -> Axis:
    """`data.base=2,3,10` as an Axis; ConfigError for anything else."""
    knob, equals, values = text.partition("=")
    if not equals or not KNOB.fullmatch(knob.strip()):
        raise ConfigError(f"--grid {shown(text)} is not KNOB=V1,V2,... (e.g. --grid data.base=2,3,10)")
    items = tuple(value.strip() for value in values.split(","))
    if not values.strip() or any(not item for item in items):
        raise ConfigError(f"--grid {shown(text)}: {knob} needs a list of values, none of them empty (e.g. {knob}=2,3)")
    return Axis(knob.strip(), items)


def read_sweep_file(path: Path) -> dict[str, Any]:
    """A sweep file's settings, its config paths made relative to the file's folder; ConfigError otherwise."""
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read sweep file {path}: {str(error).splitlines()[0]}") from None
    if not isinstance(content, dict):
        raise ConfigError(f"{path} is not a mapping of {', '.join(SWEEP_KEYS)}")
    unknown = sorted(set(content) - set(SWEEP_KEYS))
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]!r} is not a sweep setting; the settings: {', '.join(SWEEP_KEYS)}")
    settings: dict[str, Any] = {}
    if "config" in content:
        configs = content["config"] if isinstance(content["config"], list) else [content["config"]]
        if not configs or not all(isinstance(c, str) for c in configs):
            raise ConfigError(f"{path}: config must be a path or a list of paths to `lit-math fit` configs")
        settings["config"] = [str(path.parent / c) for c in configs]
    if "grid" in content:
        grid = content["grid"]
        if not isinstance(grid, dict) or not grid:
            raise ConfigError(f"{path}: grid must map knobs to lists of values (data.base: [2, 3, 10])")
        axes = []
        for knob, values in grid.items():
            values = values if isinstance(values, list) else [values]
            if not isinstance(knob, str) or not KNOB.fullmatch(knob) or not values or None in values:
                raise ConfigError(f"{path}: grid {knob}: {values!r} is not a knob and a list of values")
            axes.append(Axis(knob, tuple(_value_text(v) for v in values)))
        settings["grid"] = axes
    for key in ("seeds", "metrics", "cross"):
        if key in content:
            settings[key] = content[key]
    if "metrics" in settings and not (
        isinstance(settings["metrics"], list) and all(isinstance(m, str) for m in settings["metrics"])
    ):
        raise ConfigError(f"{path}: metrics must be a list of logged scalar names (val/natural/acc, gcd/learned)")
    if "cross" in settings and not isinstance(settings["cross"], bool):
        raise ConfigError(f"{path}: cross must be true or false, got {settings['cross']!r}")
    return settings


def check_point(words: list[str]) -> type:
    """Parses and instantiates a point's `fit` (nothing runs, nothing is written); its data class, or
    ConfigError with the CLI's one line."""
    from lit_math.argument_errors import check_config_files
    from lit_math.cli import _config_error, build_cli

    said = io.StringIO()
    try:
        check_config_files(words)
        with redirect_stderr(said), redirect_stdout(io.StringIO()), lightning_info_off():
            cli = build_cli(words, run=False)
    except SystemExit:  # the CLI's parser said it in one line (and a pointer to --help)
        line = said.getvalue().strip().splitlines()[0] if said.getvalue().strip() else "the CLI refused it"
        raise ConfigError(line.removeprefix("lit-math: error: ")) from None
    except Exception as error:
        cause = _config_error(error)
        if cause is None:
            raise
        raise ConfigError(str(cause)) from None
    return type(cli.datamodule)


@contextmanager
def lightning_info_off() -> Iterator[None]:
    """Without Lightning's notes ("Seed set to 0", "GPU available: ...") for each point parsed or evaluated."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def validate(sweep: Sweep) -> Sweep:
    """Every point's fit parsed and instantiated (ConfigError naming the point otherwise); seeds set the data's
    stream seed only where the family has one (a corpus read from files has none)."""
    points = sweep.points()
    data_class = check_point(sweep.fit_words(_without_seed(points[0])))
    has_seed = "seed" in {f.name for f in fields(data_class)}
    if has_seed != sweep.data_seed:
        sweep = Sweep(sweep.configs, sweep.axes, sweep.seeds, sweep.out, sweep.cwd, has_seed)
    checked: set[tuple[tuple[str, str], ...]] = set()
    for point in points:
        if point.settings in checked:  # seeds change no knob a parser could refuse
            continue
        checked.add(point.settings)
        try:
            check_point(sweep.fit_words(_without_seed(point)))
        except ConfigError as error:
            where = ", ".join(f"{k}={v}" for k, v in point.settings)
            raise ConfigError(f"point {where}: {error}") from None
    return sweep


def _without_seed(point: Point) -> Point:
    return Point(point.settings, None, point.name, point.group)


def run_point(sweep: Sweep, index: int) -> str:
    """Runs (or resumes, from its last.ckpt) point `index` as `lit-math fit` in a new process; its output goes
    to the point's fit.log. 'ran' or 'resumed'; RuntimeError with the log's last line when the fit fails."""
    point = sweep.points()[index]
    folder = sweep.folder(point)
    last = sweep.last_checkpoint(point)
    resume = last.is_file()
    words = ["fit", *sweep.fit_words(point), *(["--ckpt_path", str(last)] if resume else [])]
    log = folder / "fit.log"
    with log.open("a") as out:
        out.write(f"$ lit-math {' '.join(words)}\n")
        out.flush()
        code = subprocess.run(
            [sys.executable, "-m", "lit_math.cli", *words], cwd=sweep.cwd, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if code != 0:
        lines = log.read_text(errors="replace").strip().splitlines()
        raise RuntimeError(f"{point.name}: fit exited with {code}: {lines[-1] if lines else ''} (see {log})")
    (folder / "done.json").write_text(json.dumps({"fit": words}) + "\n")
    return "resumed" if resume else "ran"


def plan(sweep: Sweep) -> list[tuple[int, Point, str]]:
    """Each point and what this run does with it: 'finished' (left alone), 'resume' or 'run'. A folder run
    with other settings is a ConfigError: nothing of it is reused or overwritten."""
    out = []
    for index, point in enumerate(sweep.points()):
        folder, record = sweep.folder(point), sweep.record(point)
        saved = folder / "point.json"
        if saved.is_file() and json.loads(saved.read_text()) != record:
            raise ConfigError(
                f"{folder} was run with other settings (a changed grid or config): give another --out, or remove it"
            )
        if (folder / "done.json").is_file():
            out.append((index, point, "finished"))
        else:
            out.append((index, point, "resume" if sweep.last_checkpoint(point).is_file() else "run"))
    return out


# --- the summary --------------------------------------------------------------------------------------------


def read_scalars(run: Path) -> dict[str, list[float]]:
    """Every scalar a run logged to TensorBoard, in step order (a run restarted in its folder: the later timeline
    wins, as TensorBoard shows it)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [event.value for event in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def best(metric: str, values: Sequence[float]) -> float:
    """The best value of a curve: the lowest of a loss, the highest of anything else (accuracies, counts)."""
    return float(min(values) if metric.endswith("loss") else max(values))


@dataclass
class Row:
    """One group of points (every seed of one grid value): final and best value of each metric, per seed."""

    group: str
    settings: dict[str, str]
    final: dict[str, list[float]]
    best: dict[str, list[float]]
    runs: int
    missing: int


def summarise(sweep: Sweep, metrics: Sequence[str] | None) -> tuple[list[str], list[Row]]:
    """The metrics (those asked for, else the default ones the runs logged) and one row per group of points."""
    points = sweep.points()
    logged = {p.name: read_scalars(sweep.folder(p) / RUN) for p in points if (sweep.folder(p) / "done.json").is_file()}
    if metrics is None:
        seen = {tag for scalars in logged.values() for tag in scalars}
        metrics = sorted(tag for tag in seen if DEFAULT_METRICS.fullmatch(tag))
    rows: dict[str, Row] = {}
    for point in points:
        row = rows.setdefault(
            point.group,
            Row(point.group, dict(point.settings), {m: [] for m in metrics}, {m: [] for m in metrics}, 0, 0),
        )
        scalars = logged.get(point.name)
        if scalars is None:
            row.missing += 1
            continue
        row.runs += 1
        for metric in metrics:
            if scalars.get(metric):
                row.final[metric].append(scalars[metric][-1])
                row.best[metric].append(best(metric, scalars[metric]))
    return list(metrics), list(rows.values())


def spread(values: list[float]) -> tuple[float, float]:
    """Mean and standard deviation over seeds (nan without values; 0 for one)."""
    if not values:
        return float("nan"), float("nan")
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def cell(values: list[float]) -> str:
    """'0.450 ± 0.071' over seeds; counts (learned GCDs) as '12' or '12.5 ± 0.7'."""
    mean, std = spread(values)
    if np.isnan(mean):
        return "n/a"
    counts = all(float(v).is_integer() for v in values)
    if len(values) == 1:
        return f"{mean:.0f}" if counts else f"{mean:.3f}"
    digits = 1 if counts or abs(mean) >= 10 else 3
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown(sweep: Sweep, metrics: list[str], rows: list[Row], sections: Sequence[tuple[str, str]] = ()) -> str:
    """The summary table, then `sections` (title, markdown body)."""
    swept, fixed = sweep.swept, [a for a in sweep.axes if len(a.values) == 1]
    lines = [f"# Sweep of {', '.join(a.knob for a in swept) or 'seeds'}", ""]
    lines.append(f"Configs: {', '.join(sweep.shown_configs)}")
    if fixed:
        lines.append("Fixed: " + ", ".join(f"{a.knob}={a.values[0]}" for a in fixed))
    seeds = "the configs' own"
    if sweep.seeds > 1:
        knobs = "seed_everything and data.seed" if sweep.data_seed else "seed_everything"
        seeds = f"{sweep.seeds} per point ({knobs} 0..{sweep.seeds - 1})"
        seeds += "; mean ± standard deviation over seeds"
    lines += [f"Seeds: {seeds}", ""]
    header = [a.knob for a in swept] + ["runs"] + [f"{m} {kind}" for m in metrics for kind in ("final", "best")]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(swept) + "---:|" * (len(header) - len(swept))]
    for row in rows:
        runs = f"{row.runs}" + (f" ({row.missing} not finished)" if row.missing else "")
        values = [cell(getattr(row, kind)[m]) for m in metrics for kind in ("final", "best")]
        lines.append("| " + " | ".join([*(row.settings[a.knob] for a in swept), runs, *values]) + " |")
    for title, body in sections:
        lines += ["", f"## {title}", "", body]
    return "\n".join(lines) + "\n"


def learned_gcds(sweep: Sweep) -> str | None:
    """For GCD runs (those with a gcd_history.jsonl): which GCDs each run had learned at its last validation."""
    from lit_math.analysis.history import read_history
    from lit_math.report import find_history

    lines = []
    for point in sweep.points():
        history = find_history(sweep.folder(point) / RUN)
        if (sweep.folder(point) / "done.json").is_file() and history is not None:
            records = read_history(history)
            if records:
                last = records[-1]
                learned = ", ".join(map(str, last.learned)) or "none"
                lines.append(f"| {point.name} | {len(last.learned)} | {learned} |")
    return (
        "\n".join(["| run | learned | GCDs learned at the last validation |", "|---|---:|---|", *lines])
        if lines
        else None
    )


def plot(sweep: Sweep, metrics: list[str], rows: list[Row], path: Path) -> None:
    """One panel per metric against the first swept knob (one line per value of the others): the final value
    (mean and spread over seeds) and the best one."""
    from lit_math.analysis import figures

    swept = sweep.swept
    fig = figures.figure(7, 2.8 * max(len(metrics), 1), rows=max(len(metrics), 1))
    x_axis = swept[0] if swept else None
    ticks = list(x_axis.values) if x_axis else ["run"]
    lines: dict[str, list[Row]] = {}
    for row in rows:
        others = ", ".join(f"{a.knob}={row.settings[a.knob]}" for a in swept[1:])
        lines.setdefault(others, []).append(row)
    for axes, metric in zip(fig.axes, metrics, strict=False):
        for number, (label, members) in enumerate(lines.items()):
            where = [ticks.index(row.settings[x_axis.knob]) if x_axis else 0 for row in members]
            shift = (number - (len(lines) - 1) / 2) * 0.08  # lines side by side, their error bars apart
            final = np.array([spread(row.final[metric]) for row in members])
            peak = np.array([spread(row.best[metric])[0] for row in members])
            colour = f"C{number}"
            axes.errorbar(
                np.add(where, shift),
                final[:, 0],
                yerr=final[:, 1],
                fmt="o-",
                color=colour,
                capsize=3,
                label=f"final{', ' + label if label else ''}",
            )
            axes.plot(
                np.add(where, shift),
                peak,
                "o",
                markerfacecolor="none",
                markersize=11,
                color=colour,
                label=f"best{', ' + label if label else ''}",
            )
        axes.set_xticks(range(len(ticks)), ticks)
        axes.set(xlabel=x_axis.knob if x_axis else "", ylabel=metric)
        low, high = axes.get_ylim()
        low = min(0, low)  # from 0: the points compare in proportion
        axes.set_ylim(low, high + 0.08 * (high - low))
        axes.set_xlim(-0.5, len(ticks) - 0.5)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    seeds = f", {sweep.seeds} seeds (mean ± std)" if sweep.seeds > 1 else ""
    configs = ", ".join(sweep.shown_configs)
    fig.suptitle(f"{configs}: sweep of {', '.join(a.knob for a in swept) or 'seeds'}{seeds}")
    fig.savefig(path, dpi=100)


def cross_table(sweep: Sweep) -> str:
    """Every finished run on the data of every grid value (the evaluation sets of its first seed), with
    `lit-math cross-eval`: the data sections of the runs' saved configs become the columns' data configs."""
    from lit_math.cross_eval import cross_eval
    from lit_math.cross_eval import markdown as cross_markdown
    from lit_math.data.config import load_data_config

    finished = [p for p in sweep.points() if (sweep.folder(p) / "done.json").is_file()]
    folder = Path(sweep.out) / "cross"
    folder.mkdir(exist_ok=True)
    datas = []
    for point in finished:
        target = folder / f"{point.group}.yaml"
        if point.group not in {d.stem for d in datas}:
            data = load_data_config(sweep.folder(point) / RUN / "config.yaml")
            target.write_text(yaml.safe_dump({"data": data}))
            datas.append(target)
    with lightning_info_off():
        _, columns, cells, _ = cross_eval([sweep.last_checkpoint(p) for p in finished], datas)
    return cross_markdown([p.name for p in finished], columns, cells)


# --- the command ------------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The options of `lit-math sweep`."""
    from lit_math.data.executors import add_executor_options

    parser = argparse.ArgumentParser(prog="lit-math sweep", description=DESCRIPTION)
    parser.add_argument(
        "--sweep",
        type=Path,
        help="a sweep file (YAML: config, grid, seeds, metrics, cross); the "
        "options given here replace its settings, a --grid its axis of the same knob",
    )
    parser.add_argument("--config", type=Path, action="append", help="a `lit-math fit` config (several: in order)")
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KNOB=V1,V2,...",
        help="a swept knob and its values, e.g. data.base=2,3,10 or model.lr=1e-3,3e-4 (repeat for a "
        "product); one value fixes a knob for every point",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        help="runs per point, with seed_everything (and the data's seed) 0..N-1 (default 1: the configs' own seeds)",
    )
    parser.add_argument("--out", type=Path, required=True, help="the sweep's folder (rerun the command to resume)")
    parser.add_argument(
        "--metrics",
        help="logged scalars to summarise, comma-separated (default: every val/*/acc "
        "and gcd/learned); best is the lowest of a *loss, the highest of anything else",
    )
    parser.add_argument(
        "--cross",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also evaluate every run on every point's data (the cross-eval table)",
    )
    parser.add_argument("--parallel", type=int, default=1, help="points run at once (default 1)")
    add_executor_options(parser, "--parallel")
    return parser


def main(argv: Sequence[str]) -> int:
    """`lit-math sweep ...`: the exit code (2: a bad grid or setting, said in one line; 1: a point failed)."""
    from lit_math.process import quiet_third_party

    args = parser().parse_args(argv)
    quiet_third_party()
    try:
        sweep, metrics, cross = settings(args)
        sweep = validate(sweep)
        steps = plan(sweep)
    except ConfigError as error:
        print(f"lit-math sweep: error: {error}", file=sys.stderr)
        return 2
    return run(args, sweep, steps, metrics, cross)


def settings(args: argparse.Namespace) -> tuple[Sweep, list[str] | None, bool]:
    """The sweep the command line and the sweep file ask for; ConfigError for anything missing or malformed."""
    from_file = read_sweep_file(args.sweep) if args.sweep else {}
    configs = [str(c) for c in args.config] if args.config else from_file.get("config")
    if not configs:
        raise ConfigError("no fit config: give --config X.yaml (or a sweep file with config:)")
    for config in configs:
        if not Path(config).is_file():
            raise ConfigError(f"no such config file: {config}")
    given = [parse_grid(text) for text in args.grid]
    knobs = [axis.knob for axis in given]
    repeated = next((k for k in knobs if knobs.count(k) > 1), None)
    if repeated:
        raise ConfigError(f"--grid {repeated} is given twice: give its values once, comma-separated")
    replaced = {axis.knob: axis for axis in given}  # in the file's order: its first swept knob stays the x axis
    axes = [replaced.pop(axis.knob, axis) for axis in from_file.get("grid", [])] + list(replaced.values())
    if not axes:
        raise ConfigError("nothing to sweep: give --grid KNOB=V1,V2,... (or a sweep file with grid:)")
    seeds = args.seeds if args.seeds is not None else from_file.get("seeds", 1)
    check_int("--seeds", seeds, 1)
    check_int("--parallel", args.parallel, 1)
    if args.address is not None and args.executor != "dask":
        raise ConfigError(f"--address {args.address} is a Dask scheduler's: give it with --executor dask")
    metrics = args.metrics.split(",") if args.metrics else from_file.get("metrics")
    if metrics is not None and (not metrics or not all(m.strip() for m in metrics)):
        raise ConfigError(f"--metrics {args.metrics!r}: give logged scalar names, comma-separated")
    cross = args.cross if args.cross is not None else from_file.get("cross", False)
    resolved = tuple(str(Path(c).resolve()) for c in configs)
    sweep = Sweep(resolved, tuple(axes), seeds, str(args.out.resolve()), str(Path.cwd()))
    return sweep, [m.strip() for m in metrics] if metrics else None, cross


def run(args: argparse.Namespace, sweep: Sweep, steps: list[tuple[int, Point, str]], metrics: Any, cross: bool) -> int:
    """Runs the points not finished, then writes the summary of those that are."""
    from lit_math.data.executors import chosen_executor
    from lit_math.process import SIGTERM, Terminated, stop_at_once_on_sigterm

    stop_at_once_on_sigterm()
    todo = [index for index, _, what in steps if what != "finished"]
    print(
        f"lit-math sweep: {len(steps)} points in {sweep.out}: "
        + ", ".join(f"{p.name} ({what})" for _, p, what in steps)
    )
    for index, point, _ in steps:
        if index in todo:
            sweep.folder(point).mkdir(parents=True, exist_ok=True)
            (sweep.folder(point) / "point.json").write_text(json.dumps(sweep.record(point), indent=1) + "\n")
    points = sweep.points()
    failed = []
    try:
        with chosen_executor(args, args.parallel) as executor:
            for outcome in executor.run(run_point, sweep, todo):
                name = points[outcome.item].name
                if outcome.error is None:
                    print(f"lit-math sweep: {name}: {outcome.value}", flush=True)
                else:
                    failed.append(name)
                    print(f"lit-math sweep: {name} failed: {outcome.error}", file=sys.stderr, flush=True)
    except ConfigError as error:
        print(f"lit-math sweep: error: {error}", file=sys.stderr)
        return 2
    except Terminated:
        print("lit-math sweep: stopped by SIGTERM; run the same command again to finish", file=sys.stderr)
        return 128 + SIGTERM
    metrics, rows = summarise(sweep, metrics)
    sections = []
    if cross and any(row.runs for row in rows):
        sections.append(("Cross table: every run (rows) on every point's data (columns), accuracy", cross_table(sweep)))
    learned = learned_gcds(sweep)
    if learned:
        sections.append(("Learned GCDs", learned))
    out = Path(sweep.out)
    (out / "summary.md").write_text(markdown(sweep, metrics, rows, sections))
    plot(sweep, metrics, rows, out / "summary.png")
    print(f"lit-math sweep: wrote {out / 'summary.md'} and {out / 'summary.png'}")
    if failed:
        print(
            f"lit-math sweep: {len(failed)} of {len(todo)} points failed ({', '.join(failed)}): their fit.log says "
            "why; run the same command again to retry them",
            file=sys.stderr,
        )
        return 1
    return 0
