"""The GPU check in one command: training throughput, MFU, peak memory and dataloader wait on one CUDA device.

    python3 bench/gpu.py [--quick] [--json bench/out/gpu.json]
    python3 bench/gpu.py --quick --device cpu    # tiny sizes, 3 steps, fp32, 0/2 workers, no compile: for tests

For the GCD paper model (configs/gcd/base30.yaml: 4+4 layers x 512), the tiny GCD model (configs/gcd/tiny.yaml) and
the symbolic BWD paper model (configs/integration/bwd.yaml: 6+6 x 512) trained from a corpus written here (random
tokens shaped like BWD pairs, as bench/corpus.py writes them: the cost of a step depends on lengths, not on
meaning), each trained by the trainer `lit-math fit` builds, bf16-mixed, without validation: steady-state
examples/s and tokens/s (timed after warm-up steps), model FLOPs utilisation against the device's peak dense bf16
rate, peak memory, and the share of step time spent in `next(dataloader)`, with 0, 2 and 4 dataloader workers;
then once more with `--model.compile true` (its first step, compilation included, reported apart). Prints one
Markdown table and writes the same rows as JSON. Without CUDA it refuses in one line (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python3 bench/gpu.py` from a checkout, like `python -m bench.gpu`

CASES = {  # name: (config, knobs that keep the data module's setup short: no evaluation happens)
    "gcd_paper": ("configs/gcd/base30.yaml", ("--data.per_class", "1", "--data.natural_size", "256")),
    "gcd_tiny": ("configs/gcd/tiny.yaml", ("--data.per_class", "1", "--data.natural_size", "256")),
    "bwd_paper": ("configs/integration/bwd.yaml", ("--data.eval_size", "1")),
}
CPU_MODEL = ("--model.d_model", "32", "--model.n_enc_layers", "1", "--model.n_dec_layers", "1", "--model.n_heads", "4")
"""`--device cpu`: a network small enough for the suite; the figures only show that every column is filled."""
BATCH = {"gcd_paper": 256, "gcd_tiny": 256, "bwd_paper": 32}  # the configs' batches
CPU_BATCH = {"gcd_paper": 32, "gcd_tiny": 32, "bwd_paper": 8}
WORKERS = (0, 2, 4)
CPU_WORKERS = (0, 2)  # `--device cpu`: each run costs the suite seconds

PEAK_BF16_TFLOPS = (  # dense bf16 (no sparsity), from the vendors' data sheets; first matching name wins
    ("GH200", 989.4),
    ("H200", 989.4),
    ("H100 PCIe", 756.5),
    ("H100 NVL", 835.0),
    ("H100", 989.4),  # SXM ("H100 80GB HBM3")
    ("B200", 2250.0),
    ("A100", 312.0),
    ("L40S", 362.1),
    ("L4", 121.0),
    ("A10G", 70.0),
    ("A10", 125.0),
    ("RTX 4090", 165.2),
)


def peak_tflops(device_name: str) -> float | None:
    """The device's peak dense bf16 TFLOP/s, or None for a device not in the table (MFU is then n/a)."""
    return next((peak for name, peak in PEAK_BF16_TFLOPS if name in device_name), None)


def train_flops(d_model: int, ffn_dim: int, n_enc: int, n_dec: int, vocab: int, n: int, s: int, t: int) -> float:
    """FLOPs of one training step (forward and backward, 3x the forward's matrix products) of the encoder-decoder on
    a batch of n sources of s tokens and n decoder inputs of t tokens, padding included (what the device computes)."""
    d, f = d_model, ffn_dim
    encoder = n_enc * (2 * n * s * (4 * d * d + 2 * d * f) + 4 * n * s * s * d)
    decoder = n_dec * (
        2 * n * t * (6 * d * d + 2 * d * f)  # self-attention q, k, v, out; cross-attention q, out; feed-forward
        + 2 * n * s * 2 * d * d  # cross-attention keys and values of the encoder output
        + 4 * n * t * t * d  # self-attention scores and weighted sum
        + 4 * n * t * s * d  # cross-attention scores and weighted sum
    )
    return 3.0 * (encoder + decoder + 2 * n * t * d * vocab)


@dataclass
class Row:
    case: str
    workers: int
    compiled: bool
    examples_per_s: float
    tokens_per_s: float
    padding_share: float
    tflops: float
    mfu: float | None
    peak_memory_mib: float
    wait_share: float
    first_step_s: float


def measure(case: str, workers: int, compiled: bool, steps: int, warmup: int, device: str, corpus: Path | None) -> Row:
    """One fit of `steps` steps; figures over the steps after `warmup` (synchronised once at each end)."""
    import lightning as L
    import torch

    from bench.training import DataloaderWait
    from lit_math.cli import build_cli

    config, knobs = CASES[case]
    batch = (CPU_BATCH if device == "cpu" else BATCH)[case]
    with tempfile.TemporaryDirectory() as out:
        args = [
            *("--config", str(ROOT / config), *knobs, "--data.num_workers", str(workers)),
            *(CPU_MODEL if device == "cpu" else ()),
            *("--data.batch_size", str(batch), "--data.epoch_size", str(steps * batch)),
            *(("--data.source", str(corpus)) if corpus else ()),
            *("--model.compile", str(compiled).lower(), "--trainer.max_steps", str(steps)),
            *("--trainer.limit_val_batches", "0", "--trainer.num_sanity_val_steps", "0"),
            *("--trainer.accelerator", "gpu" if device == "cuda" else "cpu", "--trainer.devices", "1"),
            *("--trainer.precision", "bf16-mixed" if device == "cuda" else "32-true"),
            *("--trainer.enable_progress_bar", "false", "--trainer.enable_checkpointing", "false"),
            *("--trainer.enable_model_summary", "false"),
            *("--trainer.logger", "lightning.pytorch.loggers.TensorBoardLogger", "--trainer.logger.save_dir", out),
        ]
        cli = build_cli(args, run=False)
        sync = torch.cuda.synchronize if device == "cuda" else lambda: None
        marks: dict[str, float] = {}
        wait = DataloaderWait()
        shapes: list[tuple[int, int, int]] = []
        real_tokens: list[Any] = []  # device tensors, read once at the end: no host synchronisation per step

        class Timer(L.Callback):
            def on_train_batch_start(self, trainer, module, batch, batch_idx):
                if trainer.global_step == 0:
                    marks["first"] = time.perf_counter()
                if trainer.global_step == warmup:
                    sync()
                    marks["start"], wait.timing = time.perf_counter(), True
                if trainer.global_step >= warmup:
                    source, target = batch["source"], batch["target"]
                    shapes.append((source.shape[0], source.shape[1], target.shape[1] - 1))
                    real_tokens.append((source != 0).sum() + (target[:, 1:] != 0).sum())

            def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
                if trainer.global_step == 1:
                    sync()
                    marks["first_end"] = time.perf_counter()
                if trainer.global_step == steps:
                    sync()
                    marks["end"] = time.perf_counter()

        cli.trainer.profiler = wait
        cli.trainer.callbacks.append(Timer())
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        cli.trainer.fit(cli.model, cli.datamodule)
        elapsed = marks["end"] - marks["start"]
        net = cli.model.model
        vocab, ffn = net.output.out_features, net.encoder[0].ffn[0].out_features
        dims = (net.d_model, ffn, len(net.encoder), len(net.decoder), vocab)
        flops = sum(train_flops(*dims, n, s, t) for n, s, t in shapes)
        padded = sum(n * (s + t) for n, s, t in shapes)
        tokens = float(sum(real_tokens))
        peak = peak_tflops(torch.cuda.get_device_name()) if device == "cuda" else None
        memory = (
            torch.cuda.max_memory_allocated() / 2**20
            if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    return Row(
        case=case,
        workers=workers,
        compiled=compiled,
        examples_per_s=sum(n for n, _, _ in shapes) / elapsed,
        tokens_per_s=tokens / elapsed,
        padding_share=1 - tokens / padded,
        tflops=flops / elapsed / 1e12,
        mfu=None if peak is None else flops / elapsed / 1e12 / peak,
        peak_memory_mib=memory,
        wait_share=wait.waited / elapsed,
        first_step_s=marks["first_end"] - marks["first"],
    )


def write_bwd_corpus(directory: Path, examples: int) -> Path:
    """A corpus for the BWD config's task (random tokens of BWD-like lengths), large enough for one run."""
    from bench.corpus import write_corpus
    from lit_math.cli import build_cli

    config, knobs = CASES["bwd_paper"]
    task = build_cli(["--config", str(ROOT / config), *knobs], run=False).datamodule.task
    write_corpus(directory, task, examples, shard_size=min(examples, 10_000))
    return directory


def table(rows: list[Row], device_name: str) -> str:
    lines = [
        f"device: {device_name}",
        "| case | workers | compiled | examples/s | tokens/s | padding | TFLOP/s | MFU | peak memory "
        "| dataloader wait | first step |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        mfu = "n/a" if r.mfu is None else f"{r.mfu:.1%}"
        lines.append(
            f"| {r.case} | {r.workers} | {'yes' if r.compiled else 'no'} | {r.examples_per_s:,.0f} | "
            f"{r.tokens_per_s:,.0f} | {r.padding_share:.1%} | {r.tflops:.3g} | {mfu} | {r.peak_memory_mib:,.0f} MiB | "
            f"{r.wait_share:.1%} | {r.first_step_s:.1f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps: the whole check in under 5 minutes")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: tiny sizes, for the tests")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "gpu.json", help="where rows go")
    args = parser.parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench/gpu.py: no CUDA device here (torch.cuda.is_available() is False); --device cpu runs tiny sizes")
        return 2
    if args.device == "cpu":
        steps, warmup = 3, 1
    else:
        steps, warmup = (40, 10) if args.quick else (200, 30)
        torch.set_float32_matmul_precision("high")  # as `lit-math fit` sets it
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            batch = (CPU_BATCH if args.device == "cpu" else BATCH)[case]
            corpus = write_bwd_corpus(Path(tmp), 2 * steps * batch) if case == "bwd_paper" else None
            if args.device == "cuda":
                variants = [(workers, False) for workers in WORKERS] + [(0, True)]
            else:  # compiling takes minutes on a CPU
                variants = [(workers, False) for workers in CPU_WORKERS]
            for workers, compiled in variants:
                rows.append(measure(case, workers, compiled, steps, warmup, args.device, corpus))
                print(table(rows[-1:], device_name).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows, device_name))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"device": device_name, "steps": steps, "warmup": warmup, "rows": [asdict(r) for r in rows]}
    args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
