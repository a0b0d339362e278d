"""Linear-algebra generation + encoding throughput on one core, against a per-example baseline in the same run.

    taskset -c 1 python3 bench/linalg_generation.py [--batches 300] [--batch-size 64]

lit_math's path is the real training stream for 5x5 symmetric eigenvalues in P1000 (Wigner matrices): seeded
batch, sampling, rounding to three digits, eigenvalues, the writability check, held-out exclusion against a
1,000-problem evaluation set, encoding to padded id tensors. The baseline does what the reference codebase
(facebookresearch/LAWT) does per example: a numpy matrix, `eigvalsh`, each float written as a string, split
into sign / mantissa / exponent tokens, tokens to ids, then a padded tensor per batch.
Target (issue 5): at least 10x the baseline (the reference generator: about 7,300 examples/s on this machine).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from lit_math.data import LinearAlgebraDataModule


def baseline_tokens(value: float) -> list[str]:
    mantissa, exponent = f"{value:.2e}".split("e")
    sign = "-" if mantissa.startswith("-") else "+"
    digits = mantissa.lstrip("-").replace(".", "")
    return [sign, digits, f"E{int(exponent) - 2}"]


def baseline_batch(rng: np.random.Generator, batch: int, ids: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    sources, targets = [], []
    for _ in range(batch):
        m = rng.uniform(-10, 10, (5, 5))
        m = np.triu(m) + np.triu(m, 1).T
        values = np.linalg.eigvalsh(m)[::-1]
        source = ["V5", "V5"] + [t for x in m.ravel() for t in baseline_tokens(float(x))]
        target = ["V5"] + [t for x in values for t in baseline_tokens(float(x))]
        sources.append([ids.get(t, 3) for t in source] + [2])
        targets.append([1] + [ids.get(t, 3) for t in target] + [2])
    width_s, width_t = max(map(len, sources)), max(map(len, targets))
    source = torch.zeros((batch, width_s), dtype=torch.long)
    target = torch.zeros((batch, width_t), dtype=torch.long)
    for i, (s, t) in enumerate(zip(sources, targets, strict=True)):
        source[i, : len(s)] = torch.tensor(s)
        target[i, : len(t)] = torch.tensor(t)
    return source, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = LinearAlgebraDataModule(operation="eigenvalues", size=5, batch_size=args.batch_size, eval_size=1000)
    stream = data.train_dataloader().dataset
    stream[(0, 0)]  # warm up (evaluation set, held-out filter)
    start = time.perf_counter()
    for index in range(args.batches):
        stream[(0, index)]
    ours = args.batches * args.batch_size / (time.perf_counter() - start)
    ids = {t: i for i, t in enumerate(data.task.vocabulary.tokens)}
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(args.batches):
        baseline_batch(rng, args.batch_size, ids)
    theirs = args.batches * args.batch_size / (time.perf_counter() - start)
    print(f"# {platform.processor() or platform.machine()}, 5x5 symmetric eigenvalues, P1000, batch {args.batch_size}")
    print(f"lit_math: {ours:,.0f} examples/s   per-example baseline: {theirs:,.0f} examples/s")
    print(f"ratio {ours / theirs:.1f}x the baseline, {ours / 7300:.1f}x the reference generator's 7,300/s")


if __name__ == "__main__":
    main()
