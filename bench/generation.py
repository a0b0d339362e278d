"""GCD generation + encoding throughput on one core, against a per-example Python baseline in the same run.

    taskset -c 0 python3 bench/generation.py [--batches 400] [--batch-size 256]

lit_math's path is the real training stream: seeded batch, sampling, held-out exclusion against the default
evaluation sets (110,000 problems), encoding to padded id tensors. The baseline does what the reference
codebases do per example, with the same laws: Python ints, math.gcd, string tokens, token ids, then a padded
tensor per batch.
Target: at least 20x the baseline and at least 1,000,000 examples/s.
"""

from __future__ import annotations

import argparse
import functools
import math
import platform
import random
import time

import torch

from lit_math.data import GCDDataModule
from lit_math.tasks import GCDTask


def python_tokens(n: int, base: int) -> list[str]:
    digits = []
    while True:
        n, d = divmod(n, base)
        digits.append(str(d))
        if n == 0:
            return ["+", *reversed(digits)]


def python_operand(rng: random.Random, cap: int, law: str) -> int:
    if law == "uniform":
        return rng.randint(1, cap)
    while True:  # P(n) proportional to 1/n, by the same rejection as lit_math, one example at a time
        n = max(1, min(cap, int(math.exp(rng.random() * math.log(cap + 1)))))
        if rng.random() * n * math.log1p(1 / n) <= math.log(2):
            return n


def python_pair(rng: random.Random, task: GCDTask, weights: list[float]) -> tuple[int, int]:
    if task.outcomes == "natural":
        return python_operand(rng, task.max_int, task.operands), python_operand(rng, task.max_int, task.operands)
    k = rng.choices(range(1, task.max_outcome + 1), weights)[0]
    while True:
        a, b = (python_operand(rng, task.max_int // k, task.operands) for _ in range(2))
        if math.gcd(a, b) == 1:
            return k * a, k * b


def python_batch(rng: random.Random, task: GCDTask, size: int, ids: dict[str, int]) -> tuple[torch.Tensor, ...]:
    """What a per-example generator does: Python ints, math.gcd, string tokens, ids, a padded batch."""
    weights = task.outcome_probabilities(task.outcomes).tolist() if task.outcomes != "natural" else []
    sources, targets = [], []
    for _ in range(size):
        a, b = python_pair(rng, task, weights)
        source = [*python_tokens(a, task.base), *python_tokens(b, task.base), "<eos>"]
        target = ["<bos>", *python_tokens(math.gcd(a, b), task.base), "<eos>"]
        sources.append([ids[t] for t in source])
        targets.append([ids[t] for t in target])
    return tuple(
        torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in rows], batch_first=True)
        for rows in (sources, targets)
    )


def rate(make_batch, batches: int, batch_size: int) -> float:
    make_batch(0)  # warm-up
    start = time.perf_counter()
    for i in range(batches):
        make_batch(i)
    return batches * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# {platform.processor() or platform.machine()}, torch threads 1, batch {args.batch_size}")
    print("| setting | lit_math examples/s | Python baseline examples/s | ratio |")
    print("|---|---:|---:|---:|")
    for base, operands, outcomes in [
        (10, "uniform", "natural"),
        (30, "uniform", "natural"),
        (2023, "uniform", "natural"),
        (30, "loguniform", "inverse"),
    ]:
        data = GCDDataModule(base=base, operands=operands, outcomes=outcomes, batch_size=args.batch_size)
        stream = data.train_dataloader().dataset
        ours = rate(lambda i, s=stream: s[(0, i)], args.batches, args.batch_size)
        ids = {t: i for i, t in enumerate(data.task.vocabulary.tokens)}
        python = functools.partial(python_batch, random.Random(0), data.task, args.batch_size, ids)
        baseline = rate(lambda i, make=python: make(), args.batches // 4, args.batch_size)
        setting = f"base {base}, {operands} operands, {outcomes} outcomes"
        print(f"| {setting} | {ours:,.0f} | {baseline:,.0f} | {ours / baseline:.1f}x |")


if __name__ == "__main__":
    main()
