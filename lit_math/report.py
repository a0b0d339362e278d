"""`lit-math report`: what a run learned, from its history or by evaluating a checkpoint.

A GCD run gets the GCD paper's table, learned list, rules and step events (`gcd_history.jsonl`); any other
run with the `ErrorAnalysis` callback gets accuracy by class and what wrong answers get right, per evaluation
set, and its curve over training (`error_analysis.jsonl`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
from matplotlib.ticker import MaxNLocator

from lit_math.analysis.error_history import ERROR_HISTORY_FILE, ErrorRecord
from lit_math.analysis.gcd_rules import TABLE_COLUMNS, check_rules, markdown_table, table_rows
from lit_math.analysis.history import HISTORY_FILE, EpochRecord, read_history, with_threshold
from lit_math.checkpoint import read_checkpoint, saved_data, trained_on
from lit_math.errors import ConfigError, check_int


def find_history(path: Path, filename: str = HISTORY_FILE) -> Path | None:
    """The history of a run given as its folder, its history file, or one of its checkpoints."""
    if path.is_file() and path.name == filename:
        return path
    for folder in (path, path.parent, path.parent.parent) if path.suffix == ".ckpt" else (path,):
        if (folder / filename).is_file():
            return folder / filename
    return None


def evaluate_checkpoint(path: Path, callback: L.Callback) -> dict[str, Any]:
    """No history: validate the checkpoint on its own data with `callback`; returns the checkpoint."""
    from lit_math.data import data_from_spec
    from lit_math.model import Seq2SeqModule

    checkpoint = read_checkpoint(str(path))
    data_spec = saved_data(checkpoint)
    if data_spec is None:
        raise ConfigError(f"{path} records no data settings, and there is no run history beside it")
    trainer = L.Trainer(
        accelerator="auto",
        devices=1,
        logger=False,
        callbacks=[callback],
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.validate(Seq2SeqModule.load_from_checkpoint(path), data_from_spec(data_spec), verbose=False)
    return checkpoint


def evaluate_gcd_checkpoint(path: Path) -> list[EpochRecord]:
    """The class-balanced evaluation of a GCD checkpoint, as a one-record history."""
    from lit_math.callbacks import GCDClassPredictions

    classes = GCDClassPredictions()
    checkpoint = evaluate_checkpoint(path, classes)
    if classes.table is None:
        raise ConfigError(f"{path}: its data has no class-balanced evaluation set to tabulate")
    table, base = classes.table, trained_on(checkpoint).get("base")
    epoch, step = int(checkpoint.get("epoch", 0)), int(checkpoint.get("global_step", 0))
    return [EpochRecord(epoch, step, 0, table.counts.tolist(), table.learned(), base=base)]


def evaluate_errors_of_checkpoint(path: Path) -> list[ErrorRecord]:
    """The error analysis of any checkpoint on its evaluation sets, as a one-record history."""
    from lit_math.callbacks import ErrorAnalysis

    analysis = ErrorAnalysis()
    checkpoint = evaluate_checkpoint(path, analysis)
    assert analysis.record is not None  # validate ran every evaluation set
    epoch, step = int(checkpoint.get("epoch", 0)), int(checkpoint.get("global_step", 0))
    return [replace(analysis.record, epoch=epoch, step=step)]


def first_learned(history: list[EpochRecord]) -> dict[int, EpochRecord]:
    """For each GCD learned at the end, the epoch from which it stayed learned."""
    since: dict[int, EpochRecord] = {}
    for record in history:
        for k in record.learned:
            since.setdefault(k, record)
        for k in set(since) - set(record.learned):
            del since[k]
    return since


def render(history: list[EpochRecord], base: int, markdown: bool) -> str:
    """The report of a history whose records all use one threshold (see `with_threshold`)."""
    last = history[-1]
    table, threshold = last.table, last.threshold
    rules = check_rules(table, base, threshold)
    seen = f", {last.examples:,} examples" if last.examples else ""  # unknown when evaluated from a checkpoint
    out = [f"# GCD report: epoch {last.epoch}, step {last.step}{seen}, base {base}, learned at >= {threshold}", ""]
    if markdown:
        out.append(markdown_table(table, threshold))
    else:
        widths = (4, 22, 5, 8, 7)
        for row in [TABLE_COLUMNS, *table_rows(table, threshold)]:
            out.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    out += ["", f"Learned ({len(last.learned)}): {', '.join(map(str, last.learned)) or 'none'}", ""]
    out.append(
        f"R1 deterministic: mean share of the top prediction {rules.mean_top_share:.3f}; "
        f"{rules.deterministic_classes} of {len(table.present)} classes at or above 0.9"
    )
    out.append(f"R2 learned beyond the products of the base's primes (grokked): {rules.grokked or 'none'}")
    r3 = "n/a (every class learned)" if np.isnan(rules.r3_explained) else f"{rules.r3_explained:.3f}"
    out.append(
        f"R3 unlearned classes predicting their largest learned divisor: {r3}"
        + (f"; not explained: {rules.r3_unexplained}" if rules.r3_unexplained else "")
    )
    if len(history) > 1:
        curve = ", ".join(f"{r.step}: {len(r.learned)}" for r in history)
        out += ["", f"Learned-GCD curve (step: count): {curve}"]
        events = [f"- {r.event_text()}" for r in history if r.is_event]
        out += ["", "Step events:", *events] if events else ["", "Step events: none"]
        since = first_learned(history)
        if since:
            out += ["", "Learned since: " + ", ".join(f"{k} (epoch {since[k].epoch})" for k in sorted(since))]
    return "\n".join(out) + "\n"


def plot(history: list[EpochRecord], path: Path, run: str | None = None) -> None:
    """Learned-GCD curve with its steps, and per-class accuracy over validations (the TensorBoard figures)."""
    from lit_math.analysis import figures

    fig = figures.figure(9, 9, rows=2, ratios=(1, 1.4))
    curve, heat = fig.axes
    examples = [r.examples for r in history]
    notes = [(r.examples, len(r.learned), r.event_text().split(": ", 1)[1]) for r in history if r.is_event]
    figures.learned_curve(curve, examples, [len(r.learned) for r in history], notes, history[-1].threshold)
    figures.class_accuracy(fig, heat, np.array([r.table.accuracy for r in history]), examples)
    fig.suptitle(figures.title(run, history[-1].base))
    fig.savefig(path, dpi=120)


def table_text(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    """Right-aligned columns, or a markdown table."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]


def render_errors(history: list[ErrorRecord], markdown: bool) -> str:
    """Accuracy by class and the kinds of errors per evaluation set, and accuracy over training."""
    last = history[-1]
    seen = f", {last.examples:,} examples" if last.examples else ""
    out = [f"# Error analysis: epoch {last.epoch}, step {last.step}{seen}", "", f"Classes: {last.classes_are}"]
    for name in last.sets:
        out += ["", f"## {name}: accuracy {last.accuracy(name):.3f} over {last.problems(name):,} problems", ""]
        rows = [[str(c), f"{n:,}", f"{acc:.3f}"] for c, (n, acc) in last.accuracy_by_class(name).items()]
        out += table_text(["class", "problems", "accuracy"], rows, markdown)
        among = last.among_errors(name)
        if among:
            shares = ", ".join(f"{kind} {share:.3f}" for kind, share in among.items())
            out += ["", f"Among the {last.sets[name]['wrong']:,} wrong answers: {shares}"]
    if len(history) > 1:
        names = list(last.sets)
        rows = [[f"{r.step:,}", f"{r.examples:,}", *(f"{r.accuracy(n):.3f}" for n in names)] for r in history]
        out += ["", "## Accuracy over training", ""]
        out += table_text(["step", "examples", *names], rows, markdown)
    return "\n".join(out) + "\n"


def plot_errors(history: list[ErrorRecord], path: Path, run: str | None = None) -> None:
    """Accuracy of each evaluation set over training, and accuracy by class at the end."""
    from lit_math.analysis import figures

    last = history[-1]
    fig = figures.figure(9, 8, rows=2)
    curve, by_class = fig.axes
    x = [r.examples for r in history]
    for name in last.sets:
        curve.plot(x, [r.accuracy(name) if name in r.sets else np.nan for r in history], marker=".", label=name)
        classes = last.accuracy_by_class(name)
        by_class.plot(list(classes), [acc for _, acc in classes.values()], marker="o", label=name)
    curve.set(xlabel="training examples", ylabel="accuracy", ylim=(0, 1))
    curve.set_xlim(left=0)
    by_class.set(xlabel=last.classes_are, ylabel=f"accuracy at step {last.step}", ylim=(0, 1))
    by_class.xaxis.set_major_locator(MaxNLocator(integer=True))
    for axes in (curve, by_class):
        axes.legend(fontsize=7)
        axes.grid(alpha=0.3)
    fig.suptitle(run or "")
    fig.savefig(path, dpi=120)


def report(argv: Sequence[str]) -> int:
    """Print what a run learned (its folder, history file or checkpoint): the GCD paper's table for a GCD
    run, accuracy by class and the kinds of errors (ErrorAnalysis) for the others."""
    parser = argparse.ArgumentParser(prog="lit-math report", description=report.__doc__)
    parser.add_argument("path", type=Path, help="run folder, gcd_history.jsonl, error_analysis.jsonl, or a checkpoint")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--png", type=Path, help="also draw the curves (a .png)")
    parser.add_argument("--threshold", type=float, help="GCD: accuracy that counts as learned (default: the run's)")
    parser.add_argument("--base", type=int, help="GCD: the base, for rule 2 (default: the one the run records)")
    args = parser.parse_args(argv)
    markdown = args.format == "markdown"
    try:
        check_arguments(args)
        if is_gcd_run(args.path):
            history, base = load(args)
            print(render(history, base, markdown), end="")
            if args.png:
                plot(history, args.png, run_name(args.path))
                print(f"wrote {args.png}")
            return 0
        errors = load_errors(args)
    except ConfigError as error:
        parser.error(str(error))
    print(render_errors(errors, markdown), end="")
    if args.png:
        plot_errors(errors, args.png, run_name(args.path))
        print(f"wrote {args.png}")
    return 0


def run_name(path: Path) -> str:
    """`experiment/version_N` of a run folder (or of the folder of a file in it), for figure titles."""
    folder = path if path.is_dir() else path.parent
    if folder.name == "checkpoints":
        folder = folder.parent
    return f"{folder.parent.name}/{folder.name}" if folder.parent.name else folder.name


def check_arguments(args: argparse.Namespace) -> None:
    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise ConfigError(f"--threshold must be in (0, 1], got {args.threshold}")
    if args.base is not None:
        check_int("--base", args.base, 2)
    if args.png is not None and (args.png.suffix != ".png" or not args.png.parent.is_dir()):
        raise ConfigError(f"--png needs a .png file in an existing folder, got {args.png}")
    if not args.path.exists():
        raise ConfigError(f"no such run folder, history or checkpoint: {args.path}")


def is_gcd_run(path: Path) -> bool:
    """A GCD history is there, or the checkpoint is of a GCD model (the error analysis serves the others)."""
    if find_history(path) is not None:
        return True
    if find_history(path, ERROR_HISTORY_FILE) is not None or path.suffix != ".ckpt":
        return False
    return trained_on(read_checkpoint(str(path))).get("family") == "gcd"


def up_to_checkpoint(history: list[Any], path: Path) -> list[Any]:
    """A checkpoint given: that moment of the run, not the run's end."""
    if path.suffix != ".ckpt":
        return history
    step = int(read_checkpoint(str(path)).get("global_step", 0))
    return [r for r in history if r.step <= step]


def load_errors(args: argparse.Namespace) -> list[ErrorRecord]:
    """The error-analysis history of a run, or of a lone checkpoint evaluated now; ConfigError otherwise."""
    history_path = find_history(args.path, ERROR_HISTORY_FILE)
    if history_path is not None:
        history = up_to_checkpoint(read_history(history_path, ErrorRecord), args.path)
    elif args.path.suffix == ".ckpt":
        history = evaluate_errors_of_checkpoint(args.path)
    else:
        raise ConfigError(
            f"{args.path} has neither {HISTORY_FILE} (train with GCDClassPredictions) nor {ERROR_HISTORY_FILE} "
            "(train with ErrorAnalysis), and is no checkpoint"
        )
    if args.threshold is not None or args.base is not None:
        raise ConfigError("--threshold and --base apply to GCD runs; this is an error-analysis report")
    if not history:
        raise ConfigError(f"{args.path}: no validation recorded yet (up to that point)")
    return history


def load(args: argparse.Namespace) -> tuple[list[EpochRecord], int]:
    """The GCD history the arguments ask for, at the threshold they ask for, and the base; ConfigError
    otherwise."""
    history_path = find_history(args.path)
    if history_path is not None:
        history = up_to_checkpoint(read_history(history_path), args.path)
    else:
        history = evaluate_gcd_checkpoint(args.path)
    if not history:
        raise ConfigError(f"{args.path}: no validation recorded yet (up to that point)")
    if args.threshold is not None:
        history = with_threshold(history, args.threshold)
    base = args.base or history[-1].base
    if not base:
        raise ConfigError("the run does not record its base: give --base")
    return history, base
