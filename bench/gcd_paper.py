"""Reproduce Charton (2023) at small scale: what a tiny model learns from 300,000 GCD examples, by base and law.

    python3 bench/gcd_paper.py [--examples 300000] [--epochs 10] [--lr 1e-3]

Tiny model (1+1 layers, d_model 64, 4 heads, batch 256), operands in 1..10^6; runs base 30, 31 and 10 with
uniform operands, and base 30 with log-uniform operands at the same budget. Validation after every tenth of the
budget on 10,000 uniform pairs and 100 pairs per GCD 1..100. Prints, per run: natural accuracy, learned GCDs,
the three rules, and the wall-clock time until natural accuracy first reached 85% (training and evaluation).
Not a test: minutes long; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from lit_math.analysis.history import HISTORY_FILE, read_history
from lit_math.callbacks import GCDClassPredictions
from lit_math.data import GCDDataModule
from lit_math.model import Seq2SeqModule

RUNS = [(30, "uniform"), (31, "uniform"), (10, "uniform"), (30, "loguniform")]


class NaturalAccuracyClock(L.Callback):
    """At each validation: wall-clock seconds since the fit started, examples seen, natural accuracy."""

    def __init__(self) -> None:
        self.points: list[tuple[float, int, float]] = []

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:  # after the loop has computed this epoch's metrics
            accuracy = float(trainer.callback_metrics["val/natural/acc"])
            examples = trainer.global_step * trainer.datamodule.batch_size
            self.points.append((time.perf_counter() - self.start, examples, accuracy))


def run(base: int, operands: str, args: argparse.Namespace, out: Path) -> str:
    torch.manual_seed(0)
    data = GCDDataModule(
        base=base,
        operands=operands,
        epoch_size=args.examples // args.epochs,
        per_class=100,
        natural_size=10_000,
        seed=0,
    )
    model = Seq2SeqModule(
        task=data.task_config, d_model=64, n_enc_layers=1, n_dec_layers=1, n_heads=4, lr=args.lr, warmup_steps=100
    )
    clock = NaturalAccuracyClock()
    logger = L.pytorch.loggers.TensorBoardLogger(out, name=f"base{base}_{operands}")
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=args.epochs,
        logger=logger,
        callbacks=[GCDClassPredictions(), clock],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        gradient_clip_val=1.0,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, data)
    history = read_history(Path(logger.log_dir) / HISTORY_FILE)
    last = history[-1]
    rules = last.rules
    reached = next(((seconds, examples) for seconds, examples, accuracy in clock.points if accuracy >= 0.85), None)
    at_85 = f"{reached[0]:.0f} s ({reached[1]:,} examples)" if reached else "not reached"
    steps = "; ".join(r.event_text() for r in history if r.is_event)
    r3 = "n/a" if rules["r3_explained"] is None else f"{rules['r3_explained']:.2f}"
    curve = ", ".join(f"{seconds:.0f} s: {accuracy:.3f}" for seconds, _, accuracy in clock.points)
    seconds, examples, accuracy = clock.points[-1]
    return (
        f"| base {base}, {operands} | {accuracy:.3f} | {', '.join(map(str, last.learned))} "
        f"| {rules['mean_top_share']:.2f} | {rules['grokked'] or '-'} | {r3} | {at_85} | {seconds:.0f} s |\n\n"
        f"Steps, base {base} {operands} ({examples:,} examples in all): {steps}\n\n"
        f"Natural accuracy by wall-clock: {curve}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=300_000)
    parser.add_argument("--epochs", type=int, default=10, help="validations over the budget")
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {torch.get_num_threads()} torch threads, {args.examples:,} examples, lr {args.lr}")
    print("| run | natural acc | learned GCDs | R1 mean top share | R2 grokked | R3 explained | time to 85% | total |")
    print("|---|---:|---|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as out:
        for base, operands in RUNS:
            print(run(base, operands, args, Path(out)), flush=True)


if __name__ == "__main__":
    main()
