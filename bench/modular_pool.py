"""Memorisation before generalisation: modular addition on a fixed pool (the finite regime).

    python3 bench/modular_pool.py [--epochs 400] [--modulus 67] [--train-size 1800]

Trains configs/arithmetic/mod67_pool.yaml (overridable) on one CPU core and prints, per validation, the
accuracy on the first 1,000 pool problems (memorisation) and on 1,000 held-out pairs (generalisation), then
the first epoch each crossed 50% and 99%. Nothing is asserted: the figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from lit_math.cli import build_cli

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "arithmetic" / "mod67_pool.yaml"


class Curves(L.Callback):
    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        row = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        row |= {name: float(metrics[f"val/{name}/acc"]) for name in ("train_pool", "valid")}
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def first(rows: list[dict[str, float]], name: str, level: float) -> str:
    return next((f"epoch {r['epoch']} (step {r['step']})" for r in rows if r[name] >= level), "never")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--modulus", type=int, default=67)
    parser.add_argument("--train-size", type=int, default=1800)
    parser.add_argument("--weight-decay", type=float, default=1.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):  # one core, as the figures in BENCHMARKS.md
        os.sched_setaffinity(0, {0})
    torch.set_num_threads(1)
    curves = Curves()
    cli = build_cli(
        [
            *("--config", str(CONFIG), "--trainer.max_epochs", str(args.epochs)),
            *("--data.modulus", str(args.modulus), "--data.train_size", str(args.train_size)),
            *("--data.epoch_size", str(args.train_size), "--model.weight_decay", str(args.weight_decay)),
            *("--trainer.logger", "false", "--trainer.default_root_dir", tempfile.mkdtemp()),
            *("--trainer.enable_progress_bar", "false", "--trainer.callbacks", "[]"),
        ],
        run=False,
    )
    cli.trainer.callbacks.append(curves)
    start = time.perf_counter()
    cli.trainer.fit(cli.model, cli.datamodule)
    minutes = (time.perf_counter() - start) / 60
    rows = curves.rows
    print(f"\nmod {args.modulus}, pool {args.train_size}, weight decay {args.weight_decay}, {minutes:.1f} min")
    for name, label in (("train_pool", "memorised (pool)"), ("valid", "generalised (held out)")):
        print(f"{label:24s} 50%: {first(rows, name, 0.5):24s} 99%: {first(rows, name, 0.99)}")
    print(f"final: pool {rows[-1]['train_pool']:.3f}, held out {rows[-1]['valid']:.3f}")


if __name__ == "__main__":
    main()
