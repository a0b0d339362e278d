"""Valid symbolic examples per second on one core, per generator mode, at the paper's tree size.

    taskset -c 0 python3 bench/symbolic_generation.py [--seconds 120] [--max-ops 15] [--modes bwd fwd ibp ode1 ode2]
        [--known DIR]     # also IBP as a join over a BWD corpus, e.g. from `lit-math generate --config
                          # configs/integration/bwd.yaml --n 5000 --out DIR`

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


def measure(config: dict, seconds: float, seed: int = 0) -> tuple[float, int, dict[str, int]]:
    task = build_task(config)
    rng = np.random.default_rng(seed)
    kept, rejected = 0, np.zeros(len(REJECTIONS), dtype=np.int64)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        problems = task.sample(rng, 8)
        kept += len(problems["rejected"])
        rejected += problems["rejected"].sum(axis=0)
    elapsed = time.perf_counter() - start
    return kept / elapsed, kept, {r.value: int(c) for r, c in zip(REJECTIONS, rejected, strict=True) if c}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--max-ops", type=int, default=15)
    parser.add_argument("--modes", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--known", help="a BWD/FWD corpus: also measure IBP joined over it")
    args = parser.parse_args()
    if args.known:
        TASKS["ibp-join"] = {**TASKS["ibp"], "known": args.known}
        REFERENCE["ibp-join"] = REFERENCE["ibp"]
        args.modes.append("ibp-join")
    print(f"# {platform.processor() or platform.machine()}, sympy {sympy.__version__}, max_ops {args.max_ops}")
    print("| mode | valid examples/s | kept | rejected attempts | reference/s | ratio |")
    print("|---|---:|---:|---|---:|---:|")
    for mode in args.modes:
        rate, kept, rejected = measure({**TASKS[mode], "max_ops": args.max_ops}, args.seconds)
        reference = REFERENCE[mode]
        ratio = (
            "n/a"
            if reference == "n/a"
            else f"{rate / float(reference.split('-')[-1]):.1f}x-{rate / float(reference.split('-')[0]):.1f}x"
        )
        print(f"| {mode} | {rate:.2f} | {kept} | {rejected} | {reference} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
