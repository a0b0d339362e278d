"""How fast the corpora published with Lample & Charton (2020) are read: 45M-88M lines must not take hours.

    taskset -c 0 python3 bench/published_corpus.py [--lines 300000]

Writes a file of distinct lines in their format (`COUNT|sub Y' f<TAB>F`), random trees of their operators
(uniform shapes, as their generator draws them; 1 in 200 operators one that we rewrite, such as cot) with
integer leaves of 1 to 3 digits, problems of 5-40 operators and solutions of 2-20 (lengths like BWD pairs).
Then times, in one run, `read_published` (their notation to our ids, every check) and `Corpus` on it (plus
keys, deduplication, held-out filter), against `Corpus` on the same lines written in our own corpus format,
which needs no translation: the ratio is the translation's cost.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from lit_math.data.corpus import Corpus
from lit_math.data.published import read_published
from lit_math.data.stream import HeldOut
from lit_math.shards import FORMAT, MANIFEST, shard_path
from lit_math.tasks import IntegrationTask
from lit_math.tasks.trees import BINARY, UNARY, random_shape

BINARY_WORDS = ("add", "sub", "mul", "div", "pow")
UNARY_WORDS = ("sqrt", "exp", "ln", "sin", "cos", "tan", "asin", "atan", "sinh", "cosh", "tanh", "asinh")
REWRITTEN_WORDS = ("cot", "sec", "acot", "coth")


def random_line(rng: np.random.Generator, internal: int) -> list[str]:
    words = []
    for kind in random_shape(rng, internal):
        if kind == BINARY:
            words.append(BINARY_WORDS[rng.integers(len(BINARY_WORDS))])
        elif kind == UNARY:
            rare = rng.random() < 1 / 200
            choices = REWRITTEN_WORDS if rare else UNARY_WORDS
            words.append(choices[rng.integers(len(choices))])
        elif rng.random() < 0.6:
            words.append("x")
        else:
            digits = str(rng.integers(1, 1000))
            words += ["INT-" if rng.random() < 0.3 else "INT+", *digits]
    return words


def ours(words: list[str]) -> str:
    """The same line in our tokens, for the baseline (rewritten operators left out of the baseline)."""
    return " ".join({"INT+": "+", "INT-": "-"}.get(w, w) for w in words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    args = parser.parse_args()
    task = IntegrationTask(mode="bwd")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        published, own = Path(tmp) / "prim_bwd.train", Path(tmp) / "ours"
        own.mkdir()
        theirs, shard, tokens = [], [], 0
        for i in range(args.lines):
            f, F = random_line(rng, int(rng.integers(5, 41))), random_line(rng, int(rng.integers(2, 21)))
            tokens += len(f) + len(F)
            theirs.append(f"{args.lines - i}|sub Y' {' '.join(f)}\t{' '.join(F)}\n")
            if not set(REWRITTEN_WORDS) & {*f, *F}:
                shard.append(f"{ours(f)}\t{ours(F)}\n")
        published.write_text("".join(theirs))
        shard_path(own, 0).write_text("".join(shard))
        manifest = {"format": FORMAT, "data": {}, "task": task.config(), "shard_size": len(shard), "shards": 1}
        (own / MANIFEST).write_text(json.dumps(manifest))
        held_out = HeldOut(task, [])

        start = time.perf_counter()
        read = read_published(published, task)
        translate = time.perf_counter() - start
        start = time.perf_counter()
        corpus = Corpus(published, task, held_out)
        whole = time.perf_counter() - start
        start = time.perf_counter()
        baseline = Corpus(own, task, held_out)
        ours_seconds = time.perf_counter() - start

    kept = len(read.problem_offsets) - 1
    print(f"machine: {platform.machine()}, {platform.python_version()}; {args.lines:,} lines, {tokens:,} tokens")
    print(f"read_published: {args.lines / translate:,.0f} lines/s ({kept:,} kept; {read.describe()})")
    print(f"Corpus(published): {args.lines / whole:,.0f} lines/s ({len(corpus):,} examples)")
    print(f"Corpus(ours, same lines, no translation): {baseline.lines / ours_seconds:,.0f} lines/s")
    print(f"published / ours: {(args.lines / whole) / (baseline.lines / ours_seconds):.2f}x")


if __name__ == "__main__":
    main()
