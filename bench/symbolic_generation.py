"""Valid symbolic examples per second on one core, per generator mode, at the paper's tree size.

    taskset -c 0 python3 bench/symbolic_generation.py [--seconds 120] [--max-ops 15] [--modes bwd fwd ibp ode1 ode2]
        [--known DIR]     # also IBP as a join over a BWD corpus, e.g. from `lit-math generate --config
                          # configs/integration/bwd.yaml --n 5000 --out DIR`

        [--verify N]      # also run Task.verify on N kept pairs of each mode and print the share accepted
    before/after in one session: run the same script against the old code, alternately, e.g.
        PYTHONPATH=/path/to/worktree-of-9b4e66c taskset -c 1 python3 bench/symbolic_generation.py --modes bwd
        PYTHONPATH=$PWD taskset -c 1 python3 bench/symbolic_generation.py --modes bwd

Each mode runs the real training path (`Task.sample`: a random tree, the sympy step under its time limit,
cleaning, encoding to ids, in-batch deduplication) for about `--seconds`, in batches of 8, and prints valid
examples/s with the rejection counts. The reference figures (facebookresearch/SymbolicMathematics with its
README settings, max_ops 15, sympy 1.14, one core of this machine) are quoted from the issue, not rerun here:
BWD 4.0-4.6/s, FWD 0.24/s, ODE1 0.75-0.86/s, IBP 0.02-0.04/s.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import sympy

from lit_math.tasks import build_task
from lit_math.tasks.symbolic import REJECTIONS

REFERENCE = {"bwd": "4.0-4.6", "fwd": "0.24", "ibp": "0.02-0.04", "ode1": "0.75-0.86", "ode2": "n/a"}
TASKS = {
    "bwd": {"family": "integration", "mode": "bwd", "seconds": 1.0},
    "fwd": {"family": "integration", "mode": "fwd", "seconds": 3.0},
    "ibp": {"family": "integration", "mode": "ibp", "seconds": 3.0},
    "ode1": {"family": "ode", "order": 1, "seconds": 1.0},
    "ode2": {"family": "ode", "order": 2, "seconds": 1.0},
}


def measure(config: dict, seconds: float, verify: int, seed: int = 0) -> tuple[float, int, dict[str, int], str]:
    """Valid pairs/s, pairs kept, rejections by reason, and lengths plus verified share (a text)."""
    task = build_task(config)
    rng = np.random.default_rng(seed)
    batches, rejected = [], np.zeros(len(REJECTIONS), dtype=np.int64)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        batches.append(task.sample(rng, 8))
        rejected += batches[-1]["rejected"].sum(axis=0)
    elapsed = time.perf_counter() - start
    kept = sum(len(b["rejected"]) for b in batches)
    counts = {r.value: int(c) for r, c in zip(REJECTIONS, rejected, strict=True) if c}
    return kept / elapsed, kept, counts, quality(task, batches, verify)


def quality(task, batches: list[dict], verify: int) -> str:
    """Token lengths of problems and solutions (mean, median, 10% and 90% quantiles, max) and, with `verify`,
    the share of the first kept pairs that `Task.verify` accepts."""
    out = []
    for side in ("problem", "solution"):
        n = np.concatenate([(b[side] != 0).sum(axis=1) for b in batches])
        q10, median, q90 = np.quantile(n, [0.1, 0.5, 0.9])
        out.append(f"{side} {n.mean():.1f} (median {median:.0f}, q10 {q10:.0f}, q90 {q90:.0f}, max {n.max()})")
    if verify:
        rows = [(p, s) for b in batches for p, s in zip(b["problem"], b["solution"], strict=True)][:verify]
        right = sum(
            task.verify(task.expression(p), task.expression(s), seed).value == "correct"
            for seed, (p, s) in enumerate(rows)
        )
        out.append(f"verified {right}/{len(rows)}")
    return "; ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--max-ops", type=int, default=15)
    parser.add_argument("--modes", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--known", help="a BWD/FWD corpus: also measure IBP joined over it")
    parser.add_argument("--verify", type=int, default=0, help="verify this many kept pairs of each mode")
    args = parser.parse_args()
    if args.known:
        TASKS["ibp-join"] = {**TASKS["ibp"], "known": args.known}
        REFERENCE["ibp-join"] = REFERENCE["ibp"]
        args.modes.append("ibp-join")
    print(f"# {platform.processor() or platform.machine()}, sympy {sympy.__version__}, max_ops {args.max_ops}")
    print("| mode | valid examples/s | kept | rejected attempts | reference/s | ratio | lengths in tokens |")
    print("|---|---:|---:|---|---:|---:|---|")
    for mode in args.modes:
        rate, kept, rejected, lengths = measure({**TASKS[mode], "max_ops": args.max_ops}, args.seconds, args.verify)
        reference = REFERENCE[mode]
        ratio = (
            "n/a"
            if reference == "n/a"
            else f"{rate / float(reference.split('-')[-1]):.1f}x-{rate / float(reference.split('-')[0]):.1f}x"
        )
        print(f"| {mode} | {rate:.2f} | {kept} | {rejected} | {reference} | {ratio} | {lengths} |", flush=True)


if __name__ == "__main__":
    main()
