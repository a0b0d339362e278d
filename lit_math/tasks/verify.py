"""Is a hypothesis a right answer? Symbolic check under a time limit, then a documented numeric fallback.

An antiderivative F of f is right when F' - f is zero: sympy's `simplify` decides most cases; when it cannot
(in time, or it leaves a residue it cannot reduce), the residue is evaluated in small neighbourhoods of random
points of (-10, 10) where f is real and finite, and F is right when it vanishes, to 1e-9 relative precision,
on a whole neighbourhood (a complex F' where f is real does not vanish). Constants of integration pass:
differentiation drops them. An ODE solution is checked the same way, with its constants drawn at random too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit

CLUSTERS = 8
"""Small neighbourhoods tried by the numeric fallback, each around a random point of (-10, 10)^d."""
CLUSTER_POINTS = 5
CLUSTER_RADIUS = 0.05
TOLERANCE = 1e-9


class Verdict(enum.Enum):
    CORRECT = "correct"
    WRONG = "wrong"
    TIMEOUT = "timeout"
    ERROR = "error"
    """sympy failed on the hypothesis (counted apart from wrong answers)."""
    MALFORMED = "malformed"
    """The tokens do not decode to an expression."""


def numerically_zero(
    residue: sp.Expr, scale: sp.Expr, symbols: Sequence[sp.Symbol], rng: np.random.Generator
) -> bool | None:
    """Whether `residue` vanishes, relative to `scale`, on a whole small neighbourhood of some random point;
    None when no point is usable (real and finite).

    Why neighbourhoods: an analytic expression that vanishes on an open set vanishes on its whole branch, so
    a right answer that holds only on part of the real line (an ODE solution through atan(tan(u)), a log of
    a square) is accepted, while a near miss, which vanishes at isolated points at most, is not.
    """
    residue_f = sp.lambdify(symbols, residue, modules="mpmath")
    scale_f = sp.lambdify(symbols, scale, modules="mpmath")
    usable_anywhere = False
    for center in rng.uniform(-10, 10, (CLUSTERS, len(symbols))):
        usable, vanishes = 0, True
        for point in center + rng.uniform(-CLUSTER_RADIUS, CLUSTER_RADIUS, (CLUSTER_POINTS, len(symbols))):
            try:
                value, size = complex(residue_f(*point)), complex(scale_f(*point))
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                continue
            if not (np.isfinite(value) and np.isfinite(size)) or abs(size.imag) > TOLERANCE * (1 + abs(size)):
                continue  # outside the real domain of the problem
            usable += 1
            vanishes &= abs(value) <= TOLERANCE * (1 + abs(size))
        usable_anywhere |= usable > 0
        if vanishes and usable >= CLUSTER_POINTS - 1:
            return True
    return False if usable_anywhere else None


def check_zero(
    residue: Callable[[], sp.Expr], scale: sp.Expr, symbols: Sequence[sp.Symbol], seconds: float, seed: int
) -> Verdict:
    """Verdict on "the residue built by `residue()` is zero": symbolically, then numerically, `seconds` each."""
    built = None
    try:
        with time_limit(seconds):
            built = residue()
            if sp.simplify(built) == 0:
                return Verdict.CORRECT
    except TimeLimitExceeded:
        pass  # undecided symbolically: the numbers decide
    except Exception:  # sympy raises many kinds on odd input: a broken hypothesis is an error, never a crash
        return Verdict.ERROR
    try:
        with time_limit(seconds):
            built = residue() if built is None else built
            zero = numerically_zero(built, scale, symbols, np.random.default_rng(seed))
    except TimeLimitExceeded:
        return Verdict.TIMEOUT
    except Exception:
        return Verdict.ERROR
    return Verdict.CORRECT if zero else Verdict.WRONG  # too few real points: not an answer on the domain


def check_antiderivative(
    integrand: sp.Expr, candidate: sp.Expr, x: sp.Symbol, seconds: float = 1.0, seed: int = 0
) -> Verdict:
    """Verdict on `candidate` as an antiderivative of `integrand` (both functions of `x`).

    Each stage (symbolic, then numeric) has `seconds`; a candidate that exhausts both is a TIMEOUT.
    """
    return check_zero(lambda: sp.diff(candidate, x) - integrand, integrand, [x], seconds, seed)


def check_ode_solution(
    equation: sp.Expr,
    candidate: sp.Expr,
    x: sp.Symbol,
    derivatives: Sequence[sp.Symbol],
    constants: Sequence[sp.Symbol],
    seconds: float = 1.0,
    seed: int = 0,
) -> Verdict:
    """Verdict on `candidate` as the general solution of `equation` = 0, an expression of x and of symbols
    standing for y, y', y'', ... (`derivatives`).

    The candidate must depend on every integration constant (a particular solution is not the answer) and,
    substituted with its derivatives, make the equation vanish for all x and all values of the constants.
    """
    if not all(candidate.has(c) for c in constants):
        return Verdict.WRONG

    def residue() -> sp.Expr:
        values, current = {}, candidate
        for symbol in derivatives:
            values[symbol] = current
            current = sp.diff(current, x)
        return equation.xreplace(values)

    return check_zero(residue, candidate, [x, *constants], seconds, seed)
