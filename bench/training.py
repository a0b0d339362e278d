"""Training throughput on one core: `lit-math fit` against a plain PyTorch loop over the same model and batches.

    python3 bench/training.py [--tiny-steps 300] [--paper-steps 12]

Each measurement runs in its own process pinned to CPU 0 with one torch thread (so peak RSS is its own); the
sides alternate `--repeats` times and the medians are compared.
lit-math's side is the CLI's trainer as `lit-math fit` builds it (TensorBoard logger, progress bar,
checkpointing, examples/s meter, batches generated on the fly); the plain loop runs the same network, AdamW,
warm-up schedule and gradient clipping over batches generated beforehand. Timing starts after warm-up steps.
Rates are given per second of wall clock and per second of the process's CPU time: on a shared machine the
pinned core is also lent to others, which the wall clock counts and the CPU time does not.
The second table is before/after of each change kept (issue 18), measured in this run, on the plain loop.
Target: ratio lit-math / plain >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lightning.pytorch.profilers import Profiler

MODELS = {  # name: (d_model, encoder layers, decoder layers, heads)
    "tiny": (64, 1, 1, 4),
    "paper": (512, 4, 4, 8),
}
BATCH = 256
CHANGES = {  # change kept: how the plain loop ran before it (the "after" side is the plain loop as the module is)
    "fused AdamW (was one parameter at a time)": "plain-unfused-adamw",
}


class DataloaderWait(Profiler):
    """Seconds spent in `next(dataloader)` (Lightning's loop names that action) while `timing` is on."""

    def __init__(self) -> None:
        super().__init__()
        self.timing, self.began, self.waited = False, 0.0, 0.0

    def start(self, action_name: str) -> None:
        if self.timing and action_name.endswith("train_dataloader_next"):
            self.began = time.perf_counter()

    def stop(self, action_name: str) -> None:
        if self.timing and action_name.endswith("train_dataloader_next"):
            self.waited += time.perf_counter() - self.began

    def summary(self) -> str:
        return ""


def cli_args(model: str, steps: int, out: str) -> list[str]:
    return [
        *(
            f"--model.{name}={value}"
            for name, value in zip(("d_model", "n_enc_layers", "n_dec_layers", "n_heads"), MODELS[model], strict=True)
        ),
        *("--model.lr", "1e-4", "--model.warmup_steps", "100"),
        *("--data.class_path", "lit_math.data.GCDDataModule", "--data.base", "30", "--data.batch_size", str(BATCH)),
        *("--data.epoch_size", str(BATCH * steps), "--data.per_class", "1", "--data.natural_size", "256"),
        *("--trainer.max_steps", str(steps), "--trainer.limit_val_batches", "0", "--trainer.num_sanity_val_steps", "0"),
        *("--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.gradient_clip_val", "1.0"),
        *("--trainer.logger", "lightning.pytorch.loggers.TensorBoardLogger", "--trainer.logger.save_dir", out),
    ]


def measure(mode: str, model: str, steps: int, warmup: int) -> dict[str, float]:
    import lightning as L
    import torch

    from lit_math.cli import build_cli

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as out:
        cli = build_cli(cli_args(model, steps, out), run=False)
        waited = 0.0
        if mode == "lightning":
            marks: dict[str, float] = {}
            wait = DataloaderWait()

            class StepTimer(L.Callback):
                def on_train_batch_start(self, trainer, module, batch, batch_idx):
                    if trainer.global_step == warmup:
                        marks["start"], marks["cpu_start"], wait.timing = time.perf_counter(), time.process_time(), True

                def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
                    marks["end"], marks["cpu_end"] = time.perf_counter(), time.process_time()

            cli.trainer.profiler = wait
            cli.trainer.callbacks.append(StepTimer())
            cli.trainer.fit(cli.model, cli.datamodule)
            elapsed, cpu = marks["end"] - marks["start"], marks["cpu_end"] - marks["cpu_start"]
            waited = wait.waited
        else:
            module, stream = cli.model, cli.datamodule.train_dataloader().dataset
            batches = [stream[(0, i)] for i in range(steps)]
            configured = module.configure_optimizers()  # constant schedule: needs no trainer
            optimizer, scheduler = configured["optimizer"], configured["lr_scheduler"]["scheduler"]
            if mode == "plain-unfused-adamw":
                for group in optimizer.param_groups:
                    group["fused"], group["foreach"] = False, False
            module.train()
            for step, batch in enumerate(batches):
                if step == warmup:
                    start, cpu_start = time.perf_counter(), time.process_time()
                optimizer.zero_grad(set_to_none=True)
                module.loss(batch).backward()
                torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "examples_per_s": (steps - warmup) * BATCH / elapsed,
        "examples_per_cpu_s": (steps - warmup) * BATCH / cpu,
        "dataloader_wait_share": waited / elapsed,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_worker(mode: str, model: str, steps: int, warmup: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", mode, model, str(steps), str(warmup)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        ["taskset", "-c", "0", *command], capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1]
    )
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny-steps", type=int, default=300)
    parser.add_argument("--paper-steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side for the tiny model (median)")
    parser.add_argument("--paper-repeats", type=int, default=1, help="runs of each side for the paper model")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, model, steps, warmup = args.worker
        print(json.dumps(measure(mode, model, int(steps), int(warmup))))
        return
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for model, steps, warmup, repeats in (
        ("tiny", args.tiny_steps, 30, args.repeats),
        ("paper", args.paper_steps, 2, args.paper_repeats),
    ):
        for _ in range(repeats):  # alternate, so a slow spell of the machine hits every side
            for mode in ("lightning", "plain", *CHANGES.values()):
                results.setdefault((model, mode), []).append(run_worker(mode, model, steps, warmup))

    def median(model: str, mode: str, figure: str) -> float:
        return statistics.median(r[figure] for r in results[model, mode])

    print(
        "| model | lit-math fit examples/s | plain PyTorch examples/s | ratio | lit-math examples/CPU-s "
        "| plain examples/CPU-s | ratio (CPU) | dataloader wait | lit-math peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in MODELS:
        ours, plain = median(model, "lightning", "examples_per_s"), median(model, "plain", "examples_per_s")
        ours_cpu, plain_cpu = (median(model, mode, "examples_per_cpu_s") for mode in ("lightning", "plain"))
        wait = median(model, "lightning", "dataloader_wait_share")
        rss = max(r["peak_rss_mib"] for r in results[model, "lightning"])
        print(
            f"| {model} | {ours:,.0f} | {plain:,.0f} | {ours / plain:.2f} | {ours_cpu:,.0f} | {plain_cpu:,.0f} "
            f"| {ours_cpu / plain_cpu:.2f} | {wait:.1%} | {rss:,.0f} MiB |"
        )
    print("\n| change (plain loop) | model | before examples/CPU-s | after examples/CPU-s | after / before |")
    print("|---|---|---:|---:|---:|")
    for change, before_mode in CHANGES.items():
        for model in MODELS:
            before, after = (median(model, mode, "examples_per_cpu_s") for mode in (before_mode, "plain"))
            print(f"| {change} | {model} | {before:,.0f} | {after:,.0f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
