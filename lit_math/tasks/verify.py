"""Is a hypothesis a right answer? Symbolic check under a time limit, then a documented numeric fallback.

An antiderivative F of f is right when F' - f is zero: sympy's `simplify` decides most cases; when it cannot
(in time, or it leaves a residue it cannot reduce), the residue is evaluated at random points of (-10, 10)
where f is real and finite, and F is right when it vanishes at every such point to 1e-9 relative precision
(a complex F' there is wrong), with at least half the points usable. Constants of integration pass:
differentiation drops them.
"""

from __future__ import annotations

import enum

import numpy as np
import sympy as sp

from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit

NUMERIC_POINTS = 20
"""Random points tried by the numeric fallback; at least half must be usable (real, finite) to decide."""
TOLERANCE = 1e-9


class Verdict(enum.Enum):
    CORRECT = "correct"
    WRONG = "wrong"
    TIMEOUT = "timeout"
    ERROR = "error"
    """sympy failed on the hypothesis (counted apart from wrong answers)."""


def numerically_zero(residue: sp.Expr, scale: sp.Expr, x: sp.Symbol, rng: np.random.Generator) -> bool | None:
    """Whether `residue` vanishes at random points, relative to `scale`; None when too few points are usable."""
    residue_f = sp.lambdify(x, residue, modules="mpmath")
    scale_f = sp.lambdify(x, scale, modules="mpmath")
    usable = 0
    for point in rng.uniform(-10, 10, NUMERIC_POINTS):
        try:
            value, size = complex(residue_f(point)), complex(scale_f(point))
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            continue
        if not (np.isfinite(value) and np.isfinite(size)) or abs(size.imag) > TOLERANCE * (1 + abs(size)):
            continue  # outside the real domain of the problem
        usable += 1
        if abs(value) > TOLERANCE * (1 + abs(size)):
            return False
    return True if usable >= NUMERIC_POINTS // 2 else None


def check_antiderivative(
    integrand: sp.Expr, candidate: sp.Expr, x: sp.Symbol, seconds: float = 1.0, seed: int = 0
) -> Verdict:
    """Verdict on `candidate` as an antiderivative of `integrand` (both functions of `x`).

    Each stage (symbolic, then numeric) has `seconds`; a candidate that exhausts both is a TIMEOUT.
    """
    residue = None
    try:
        with time_limit(seconds):
            residue = sp.diff(candidate, x) - integrand
            if sp.simplify(residue) == 0:
                return Verdict.CORRECT
    except TimeLimitExceeded:
        pass  # undecided symbolically: the numbers decide
    except Exception:  # sympy raises many kinds on odd input: a broken hypothesis is an error, never a crash
        return Verdict.ERROR
    try:
        with time_limit(seconds):
            residue = sp.diff(candidate, x) - integrand if residue is None else residue
            zero = numerically_zero(residue, integrand, x, np.random.default_rng(seed))
    except TimeLimitExceeded:
        return Verdict.TIMEOUT
    except Exception:
        return Verdict.ERROR
    return Verdict.CORRECT if zero else Verdict.WRONG  # too few real points: not an answer on the domain
