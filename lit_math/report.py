"""`lit-math report`: the GCD paper's table, learned list, rules and step events, from a run's history."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lit_math.analysis.gcd_rules import LEARNED_THRESHOLD, check_rules, markdown_table
from lit_math.analysis.history import HISTORY_FILE, EpochRecord, read_history
from lit_math.errors import ConfigError


def find_history(path: Path) -> Path | None:
    """The history of a run given as its folder, its history file, or one of its checkpoints."""
    if path.is_file() and path.name == HISTORY_FILE:
        return path
    for folder in (path, path.parent, path.parent.parent) if path.suffix == ".ckpt" else (path,):
        if (folder / HISTORY_FILE).is_file():
            return folder / HISTORY_FILE
    return None


def evaluate_checkpoint(path: Path, threshold: float) -> list[EpochRecord]:
    """No history: run the class-balanced evaluation of the checkpoint on its own data."""
    import lightning as L

    from lit_math.callbacks import GCDClassPredictions
    from lit_math.cli import read_checkpoint, saved_data
    from lit_math.model import Seq2SeqModule

    checkpoint = read_checkpoint(str(path))
    data_spec = saved_data(checkpoint)
    if data_spec is None:
        raise ConfigError(f"{path} records no data settings, and there is no {HISTORY_FILE} beside it")
    module_path, _, name = data_spec["class_path"].rpartition(".")
    data = getattr(importlib.import_module(module_path), name)(**data_spec["init_args"])
    classes = GCDClassPredictions(classes=getattr(data, "classes", 100), learned_threshold=threshold)
    trainer = L.Trainer(
        accelerator="auto",
        devices=1,
        logger=False,
        callbacks=[classes],
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.validate(Seq2SeqModule.load_from_checkpoint(path), data, verbose=False)
    table, base = classes.table, checkpoint["hyper_parameters"]["task"].get("base")
    epoch, step = int(checkpoint.get("epoch", 0)), int(checkpoint.get("global_step", 0))
    return [EpochRecord(epoch, step, 0, table.counts.tolist(), table.learned(threshold), base=base)]


def first_learned(history: list[EpochRecord]) -> dict[int, EpochRecord]:
    """For each GCD learned at the end, the epoch from which it stayed learned."""
    since: dict[int, EpochRecord] = {}
    for record in history:
        for k in record.learned:
            since.setdefault(k, record)
        for k in set(since) - set(record.learned):
            del since[k]
    return since


def render(history: list[EpochRecord], base: int, threshold: float, markdown: bool) -> str:
    last = history[-1]
    table = last.table
    rules = check_rules(table, base, threshold)
    seen = f", {last.examples:,} examples" if last.examples else ""  # unknown when evaluated from a checkpoint
    out = [f"# GCD report: epoch {last.epoch}, step {last.step}{seen}, base {base}", ""]
    if markdown:
        out.append(markdown_table(table, threshold))
    else:
        learned = set(table.learned(threshold))
        out.append(f"{'k':>4}  {'prediction':>10}  {'share':>5}  {'accuracy':>8}  learned")
        for k in table.present:
            top = table.top_prediction[k - 1]
            out.append(
                f"{k:>4}  {table.label(top):>10}  {table.top_share[k - 1]:>5.2f}  "
                f"{table.accuracy[k - 1]:>8.2f}  {'yes' if k in learned else ''}"
            )
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
        out += ["", "Learned-GCD curve (epoch: count): " + ", ".join(f"{r.epoch}: {len(r.learned)}" for r in history)]
        out += ["", "Step events:"] + [f"- {r.event_text()}" for r in history if r.is_event]
        since = first_learned(history)
        out += ["", "Learned since: " + ", ".join(f"{k} (epoch {since[k].epoch})" for k in sorted(since))]
    return "\n".join(out) + "\n"


def plot(history: list[EpochRecord], threshold: float, path: Path) -> None:
    """Learned-GCD curve with its steps, and per-class accuracy over epochs."""
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
    curve.set(xlabel="training examples", ylabel=f"learned GCDs (accuracy >= {threshold})")
    image = heat.imshow(
        accuracy,
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0.5, accuracy.shape[1] + 0.5, history[-1].epoch + 0.5, history[0].epoch - 0.5),
    )
    heat.set(xlabel="GCD k", ylabel="epoch")
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
    parser.add_argument("--png", type=Path, help="also draw the learned-GCD curve and accuracy heatmap here")
    parser.add_argument("--threshold", type=float, default=LEARNED_THRESHOLD, help="accuracy that counts as learned")
    parser.add_argument("--base", type=int, help="the base, for rule 2 (default: the one the run records)")
    args = parser.parse_args(argv)
    try:
        if not args.path.exists():
            raise ConfigError(f"no such run folder, history or checkpoint: {args.path}")
        history_path = find_history(args.path)
        if history_path is not None:
            history = read_history(history_path)
        elif args.path.suffix == ".ckpt":
            history = evaluate_checkpoint(args.path, args.threshold)
        else:
            raise ConfigError(
                f"{args.path} has no {HISTORY_FILE} (train with GCDClassPredictions) and is no checkpoint"
            )
        if not history:
            raise ConfigError(f"{history_path} is empty: no validation epoch has finished yet")
        base = args.base or history[-1].base
        if not base:
            raise ConfigError("the run does not record its base: give --base")
    except ConfigError as error:
        parser.error(str(error))
    print(render(history, base, args.threshold, args.format == "markdown"), end="")
    if args.png:
        plot(history, args.threshold, args.png)
    return 0
