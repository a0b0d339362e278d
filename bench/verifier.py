"""The verifier on integrals written by people: right answers accepted, wrong ones rejected, time per check,
for the verifier before issue 15 (commit 9b4e66c, read with `git show`) and the current one, in one run.

    python3 bench/verifier.py [--file configs/integration/textbook_integrals.txt] [--generated 40] [--seconds 1]

For each line (integrand f, antiderivative F) of the typed file, each verifier judges F and three wrong
answers: 2F, F + x, and F with one coefficient changed (`wrong_antiderivatives`). A right answer counts as
accepted within the limit when the verdict is CORRECT and the check took at most `--seconds`. `--generated`
pairs of the BWD generator (the paper's settings) measure the cost per check on what training-time validation
sees. Run on an otherwise idle machine: times are wall-clock.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import mpmath
import numpy as np
import sympy as sp

from lit_math.data.files import read_lines
from lit_math.tasks import IntegrationTask
from lit_math.tasks.integration import X, backward_pair
from lit_math.tasks.symbolic import Pair
from lit_math.tasks.trees import ExpressionSampler
from lit_math.tasks.verify import Verdict, check_antiderivative

ROOT = Path(__file__).resolve().parents[1]
TEXTBOOK = ROOT / "configs" / "integration" / "textbook_integrals.txt"
BEFORE = "9b4e66c"
"""The last commit with the verifier before issue 15."""
PROBES = (0.3, 0.7, 1.3, 2.5, -0.4, 5.0, 25.0, -30.0)
"""Points where a changed coefficient is checked to change F' (at least one lies in each set's real domain,
|x| > 20 included)."""


def textbook_pairs(path: Path = TEXTBOOK) -> list[tuple[sp.Expr, sp.Expr]]:
    """(f, F) of every line of a typed file, read by the project's grammar."""
    task, pairs = IntegrationTask(), []
    for _, fields in read_lines(path)[0]:
        text = "\t".join(fields).split("#", 1)[0]
        if text.strip():
            problem, answer = text.split("\t")
            pairs.append((task.typed(problem.strip())[0], task.typed(answer.strip())[0]))
    return pairs


def _numbers(expr: sp.Expr, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], sp.Expr]]:
    """(position, number) in preorder, leaving out exponents and the numbers 1 and -1 (signs, implicit
    coefficients)."""
    if expr.is_Rational:
        if abs(expr) != 1:
            yield path, expr
        return
    args = expr.args[:1] if expr.is_Pow else expr.args
    for i, arg in enumerate(args):
        yield from _numbers(arg, (*path, i))


def _replaced(expr: sp.Expr, path: tuple[int, ...], value: sp.Expr) -> sp.Expr:
    if not path:
        return value
    args = list(expr.args)
    args[path[0]] = _replaced(args[path[0]], path[1:], value)
    return expr.func(*args)


def _changes_derivative(F: sp.Expr, G: sp.Expr) -> bool:
    """Whether (G - F)' is nonzero at a probe where it is real: there G is no antiderivative. Evaluated by
    mpmath at 30 digits (sympy's `evalf` of |u| at a complex u took seconds)."""
    real = sp.Dummy("x", real=True)  # |u| differentiates as on the reals
    slope = sp.lambdify(real, sp.diff((G - F).xreplace({X: real}), real), modules="mpmath")
    with mpmath.workdps(30):
        for point in PROBES:
            try:
                value = complex(slope(mpmath.mpf(point)))
            except (TypeError, ValueError, ZeroDivisionError):  # undefined there
                continue
            if np.isfinite(value) and abs(value.imag) < 1e-20 and abs(value) > 1e-15:
                return True
    return False


def changed_coefficient(F: sp.Expr) -> sp.Expr:
    """F with one number n made n + 1: the first, in preorder, whose change changes F' (log(3*x) -> log(4*x)
    only moves the constant of integration, and so do top-level constants); without one, F's first term
    doubled."""
    for path, number in _numbers(F):
        G = _replaced(F, path, number + 1)
        if _changes_derivative(F, G):
            return G
    first, *rest = sp.Add.make_args(F)
    return 2 * first + sp.Add(*rest)


def wrong_antiderivatives(F: sp.Expr) -> dict[str, sp.Expr]:
    """Three wrong answers near a right one F: 2F, F + x, F with one coefficient changed."""
    return {"2F": 2 * F, "F + x": F + X, "coefficient": changed_coefficient(F)}


def previous_verifier() -> ModuleType:
    """lit_math/tasks/verify.py as it was at BEFORE, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:lit_math/tasks/verify.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "verify_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("verify_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def judged(
    check: Callable[..., object], pairs: list[tuple[sp.Expr, sp.Expr]], seconds: float
) -> list[tuple[str, float]]:
    """(verdict, seconds taken) of each pair."""
    out = []
    for f, F in pairs:
        start = time.perf_counter()
        verdict = check(f, F, X, seconds=seconds)
        out.append((verdict.value, time.perf_counter() - start))
    return out


def generated_pairs(n: int, seed: int = 0) -> list[tuple[sp.Expr, sp.Expr]]:
    """BWD pairs at the paper's size (up to 15 operators), as training-time validation sees them."""
    from lit_math.encoding.expressions import PrefixCodec

    rng, sampler, codec, pairs = np.random.default_rng(seed), ExpressionSampler(max_ops=15), PrefixCodec(), []
    while len(pairs) < n:
        made = backward_pair(rng, sampler, codec, 512, 1.0)
        if isinstance(made, Pair):
            pairs.append((made.problem, made.solution))
    return pairs


def row(name: str, results: list[tuple[str, float]], wanted: str, seconds: float) -> str:
    times = [t for _, t in results]
    hits = sum(v == wanted for v, _ in results)
    within = sum(v == wanted and t <= seconds for v, t in results)
    others = {v: sum(w == v for w, _ in results) for v in sorted({v for v, _ in results} - {wanted})}
    return (
        f"| {name} | {hits}/{len(results)} = {hits / len(results):.1%} | {within / len(results):.1%} | "
        f"{', '.join(f'{v} {c}' for v, c in others.items()) or '-'} | {1000 * statistics.mean(times):.0f} | "
        f"{1000 * statistics.median(times):.0f} | {1000 * max(times):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=TEXTBOOK)
    parser.add_argument("--generated", type=int, default=40, help="BWD pairs for the cost on generated data")
    parser.add_argument("--seconds", type=float, default=1.0, help="the verifier's time limit (default 1 s)")
    args = parser.parse_args()
    pairs = textbook_pairs(args.file)
    cases = {"right F": pairs, **{k: [] for k in ("2F", "F + x", "coefficient")}}
    for f, F in pairs:
        for kind, G in wrong_antiderivatives(F).items():
            cases[kind].append((f, G))
    generated = generated_pairs(args.generated)
    verifiers = {f"before ({BEFORE})": previous_verifier().check_antiderivative, "now": check_antiderivative}
    print(
        f"# {len(pairs)} pairs of {args.file.name}, {args.generated} generated BWD pairs; time limit {args.seconds} s"
    )
    print(f"# python {platform.python_version()}, sympy {sp.__version__}, {platform.machine()}")
    print("| verifier | answers | as expected | within the limit | other verdicts | mean ms | median ms | max ms |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    for name, check in verifiers.items():
        for kind, chosen in cases.items():
            wanted = Verdict.CORRECT.value if kind == "right F" else Verdict.WRONG.value
            print(row(f"{name}, {kind}", judged(check, chosen, args.seconds), wanted, args.seconds), flush=True)
        for kind, chosen in (("generated F", generated), ("generated 2F", [(f, 2 * F) for f, F in generated])):
            wanted = Verdict.CORRECT.value if kind == "generated F" else Verdict.WRONG.value
            print(row(f"{name}, {kind}", judged(check, chosen, args.seconds), wanted, args.seconds), flush=True)


if __name__ == "__main__":
    sys.exit(main())
