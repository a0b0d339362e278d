"""`lit-math report`: the GCD paper's table, learned list, rules and step events, from a run's history."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lit_math.analysis.gcd_rules import TABLE_COLUMNS, check_rules, markdown_table, table_rows
from lit_math.analysis.history import HISTORY_FILE, EpochRecord, read_history, with_threshold
from lit_math.cli import read_checkpoint, saved_data
from lit_math.errors import ConfigError, check_int


def find_history(path: Path) -> Path | None:
    """The history of a run given as its folder, its history file, or one of its checkpoints."""
    if path.is_file() and path.name == HISTORY_FILE:
        return path
    for folder in (path, path.parent, path.parent.parent) if path.suffix == ".ckpt" else (path,):
        if (folder / HISTORY_FILE).is_file():
            return folder / HISTORY_FILE
    return None


def evaluate_checkpoint(path: Path) -> list[EpochRecord]:
    """No history: run the class-balanced evaluation of the checkpoint on its own data."""
    import lightning as L

    from lit_math.callbacks import GCDClassPredictions
    from lit_math.data import data_from_spec
    from lit_math.model import Seq2SeqModule

    checkpoint = read_checkpoint(str(path))
    data_spec = saved_data(checkpoint)
    if data_spec is None:
        raise ConfigError(f"{path} records no data settings, and there is no {HISTORY_FILE} beside it")
    data = data_from_spec(data_spec)
    classes = GCDClassPredictions()
    trainer = L.Trainer(
        accelerator="auto",
        devices=1,
        logger=False,
        callbacks=[classes],
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.validate(Seq2SeqModule.load_from_checkpoint(path), data, verbose=False)
    if classes.table is None:
        raise ConfigError(f"{path}: its data has no class-balanced evaluation set to tabulate")
    table, base = classes.table, checkpoint["hyper_parameters"]["task"].get("base")
    epoch, step = int(checkpoint.get("epoch", 0)), int(checkpoint.get("global_step", 0))
    return [EpochRecord(epoch, step, 0, table.counts.tolist(), table.learned(), base=base)]


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


def plot(history: list[EpochRecord], path: Path) -> None:
    """Learned-GCD curve with its steps, and per-class accuracy over validations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    examples = [r.examples for r in history]
    accuracy = np.array([r.table.accuracy for r in history])
    figure, (curve, heat) = plt.subplots(2, 1, figsize=(9, 8), height_ratios=(1, 1.4))
    curve.step(examples, [len(r.learned) for r in history], where="post")
    for record in history:
        if record.is_event:
            curve.annotate(
                " ".join([f"+{k}" for k in record.joined] + [f"-{k}" for k in record.left]),
                (record.examples, len(record.learned)),
                fontsize=7,
                rotation=45,
            )
    curve.set(xlabel="training examples", ylabel=f"learned GCDs (accuracy >= {history[-1].threshold})")
    image = heat.imshow(
        accuracy,
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0.5, accuracy.shape[1] + 0.5, len(history) - 0.5, -0.5),
    )
    heat.set(xlabel="GCD k", ylabel="validation (one per epoch by default)")
    heat.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.colorbar(image, ax=heat, label="accuracy")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def report(argv: Sequence[str]) -> int:
    """Print the GCD paper's table for a run (its folder, history file or checkpoint)."""
    parser = argparse.ArgumentParser(prog="lit-math report", description=report.__doc__)
    parser.add_argument("path", type=Path, help="run folder, gcd_history.jsonl, or a checkpoint")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--png", type=Path, help="also draw the learned-GCD curve and accuracy heatmap (a .png)")
    parser.add_argument("--threshold", type=float, help="accuracy that counts as learned (default: the run's)")
    parser.add_argument("--base", type=int, help="the base, for rule 2 (default: the one the run records)")
    args = parser.parse_args(argv)
    try:
        history, base = load(args)
    except ConfigError as error:
        parser.error(str(error))
    print(render(history, base, args.format == "markdown"), end="")
    if args.png:
        plot(history, args.png)
    return 0


def load(args: argparse.Namespace) -> tuple[list[EpochRecord], int]:
    """The history the arguments ask for, at the threshold they ask for, and the base; ConfigError otherwise."""
    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise ConfigError(f"--threshold must be in (0, 1], got {args.threshold}")
    if args.base is not None:
        check_int("--base", args.base, 2)
    if args.png is not None and (args.png.suffix != ".png" or not args.png.parent.is_dir()):
        raise ConfigError(f"--png needs a .png file in an existing folder, got {args.png}")
    if not args.path.exists():
        raise ConfigError(f"no such run folder, history or checkpoint: {args.path}")
    history_path = find_history(args.path)
    if history_path is not None:
        history = read_history(history_path)
        if args.path.suffix == ".ckpt":  # that checkpoint's moment of the run, not the run's end
            step = int(read_checkpoint(str(args.path)).get("global_step", 0))
            history = [r for r in history if r.step <= step]
    elif args.path.suffix == ".ckpt":
        history = evaluate_checkpoint(args.path)
    else:
        raise ConfigError(f"{args.path} has no {HISTORY_FILE} (train with GCDClassPredictions) and is no checkpoint")
    if not history:
        raise ConfigError(f"{args.path}: no validation recorded yet (up to that point)")
    if args.threshold is not None:
        history = with_threshold(history, args.threshold)
    base = args.base or history[-1].base
    if not base:
        raise ConfigError("the run does not record its base: give --base")
    return history, base
