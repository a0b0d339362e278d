"""Is a hypothesis a right answer? Symbolic check under a time limit, then a documented numeric fallback.

An antiderivative F of f is right when F' - f is zero, x real: sympy's `simplify` decides most cases; when it
cannot (in time, or it leaves a residue it cannot reduce), the residue is evaluated in small neighbourhoods of
random points of (-10, 10) where f is real and finite, and F is right when it vanishes there, to 1e-9
relative precision (a complex F' where f is real does not vanish). Constants of integration pass:
differentiation drops them. An ODE solution is checked the same way, with its constants drawn at random too,
and may hold on one branch only (see `numerically_zero`).
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
    residue: sp.Expr,
    scale: sp.Expr,
    symbols: Sequence[sp.Symbol],
    rng: np.random.Generator,
    everywhere: bool = True,
) -> bool | None:
    """Whether `residue` vanishes, relative to `scale`, on small neighbourhoods of random points: on every one
    where it is real (`everywhere`), or on a whole one at least; None when too few points are usable.

    Why neighbourhoods: an analytic expression that vanishes on an open set vanishes on its whole branch, so a
    near miss, which vanishes at isolated points at most, never passes. An antiderivative must hold wherever
    the problem is real (`sqrt(x**2)` is not one of 1); an ODE solution may hold on one branch only (a
    solution through atan(tan(u)) solves its equation where tan is inverted), hence `everywhere=False`.
    """
    residue_f = sp.lambdify(symbols, residue, modules="mpmath")
    scale_f = sp.lambdify(symbols, scale, modules="mpmath")
    verdicts = []
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
        if not vanishes:
            verdicts.append(False)
        elif usable >= CLUSTER_POINTS - 1:
            verdicts.append(True)
    if not verdicts:
        return None
    return all(verdicts) if everywhere else any(verdicts)


def check_zero(
    residue: Callable[[], sp.Expr],
    scale: sp.Expr,
    symbols: Sequence[sp.Symbol],
    seconds: float,
    seed: int,
    everywhere: bool = True,
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
            zero = numerically_zero(built, scale, symbols, np.random.default_rng(seed), everywhere)
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
    real = sp.Dummy(x.name, real=True)  # so that |x|, sqrt(x**2) and log(x**2) differentiate as on the reals
    integrand, candidate = integrand.xreplace({x: real}), candidate.xreplace({x: real})
    return check_zero(lambda: sp.diff(candidate, real) - integrand, integrand, [real], seconds, seed)


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
    reals = {s: sp.Dummy(s.name, real=True) for s in (x, *constants)}
    equation, candidate, real_x = equation.xreplace(reals), candidate.xreplace(reals), reals[x]

    def residue() -> sp.Expr:
        values, current = {}, candidate
        for symbol in derivatives:
            values[symbol] = current
            current = sp.diff(current, real_x)
        return equation.xreplace(values)

    return check_zero(residue, candidate, list(reals.values()), seconds, seed, everywhere=False)
