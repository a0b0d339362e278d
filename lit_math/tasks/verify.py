"""Is a hypothesis a right answer? A numeric identity test at two working precisions, then `simplify` when
the numbers cannot decide.

An antiderivative F of f is right when the residue F' - f is zero, x real. The residue is evaluated in small
neighbourhoods of points where the problem is real and finite, found among random points of (-10, 10) and of
every magnitude from 0.01 to 10 (screened by the hundred thousand, up to 1000, where few are real, so that a
problem real on a narrow interval, sqrt(3-x)*sqrt(x-2) on [2, 3], still gets its points), each at `LOW_DIGITS`
and at `HIGH_DIGITS` of working precision (mpmath). It vanishes at a point when it shrinks with the precision,
as rounding noise does: no tolerance relative to the integrand, which accepted additive errors on huge
integrands (x**101/101 + x for x**100) and anything on tiny ones, and no 15-digit cancellation in large
polynomial products. A residue with a value that holds at both precisions is a wrong answer at once (a nonzero
constant too). `simplify` decides only where the problem is real at too few points.
Constants of integration pass: differentiation drops them. An ODE solution is checked the same way, with its
constants drawn at random too, and may hold on one branch only (see `numerically_zero`).

Functions: those of the codec (`lit_math.encoding.expressions.UNARY`); sec, csc and cot are read as 1/cos,
1/sin and 1/tan. Special functions (erf, Ei, Si, elliptic integrals...) are out: the vocabulary of Lample &
Charton (2020), which checkpoints and published corpora share, has no tokens for them, and the generators
never make them; a typed problem that needs one is counted as not encodable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence

import mpmath
import numpy as np
import sympy as sp

from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit

CLUSTERS = 8
"""Small neighbourhoods tried by the numeric check, each around a point where the problem is real."""
CLUSTER_POINTS = 5
CLUSTER_RADIUS = 0.05
"""Radius of a neighbourhood (relative to its centre's size below 1); tenfold smaller, twice, when its points
leave the real domain (a problem real on a narrow interval)."""
CANDIDATES = 400
"""Random points tried first to find the neighbourhoods' centres (half in (-10, 10), half of magnitude
10^U(-2, 1))."""
SCREENED = 100_000
"""Random points screened at once in float64 (numpy) when fewer than CLUSTERS of the CANDIDATES are real, of
magnitudes up to 1000 too: a problem real on [2, 2.1] only, or for |x| > 20 only, still gets dozens. A problem
real on none is left to `simplify`."""
LOW_DIGITS, HIGH_DIGITS = 20, 45
SHRINK = 1e-12
"""A residue vanishes at a point when its value at HIGH_DIGITS is at most SHRINK times its value at LOW_DIGITS
(rounding noise shrinks by about 10^-25; a true value stays put)."""
AGREE = 1e-6
"""A residue is a true nonzero value at a point when its values at both precisions agree to this (relative)."""


class Verdict(enum.Enum):
    CORRECT = "correct"
    WRONG = "wrong"
    TIMEOUT = "timeout"
    ERROR = "error"
    """sympy failed on the hypothesis (counted apart from wrong answers)."""
    MALFORMED = "malformed"
    """The tokens do not decode to an expression."""
    NOT_ENCODABLE = "not_encodable"
    """The problem itself could not be written in the codec's tokens (a typed evaluation line outside the
    vocabulary or too long): no answer to it counts as right."""


EVALUATION_ERRORS = (ZeroDivisionError, OverflowError, ValueError, TypeError, ArithmeticError)


def _value(function: Callable[..., object], point: Sequence[float], digits: int) -> complex | None:
    """`function` at `point` with `digits` of working precision, or None where it is undefined or infinite."""
    try:
        with mpmath.workdps(digits):
            value = mpmath.mpmathify(function(*(mpmath.mpf(float(c)) for c in point)))
    except EVALUATION_ERRORS:
        return None
    return value if mpmath.isfinite(value) else None


def _real(function: Callable[..., object], point: Sequence[float]) -> bool:
    """Whether the problem (`function`) is real and finite at `point`."""
    value = _value(function, point, LOW_DIGITS)
    return value is not None and abs(mpmath.im(value)) <= 1e-10 * abs(value)


def _vanishes(residue: Callable[..., object], point: Sequence[float]) -> bool | None:
    """Whether the residue is rounding noise at `point` (True), a value that holds at both precisions (False),
    or neither (None: undefined there, or too ill-conditioned for either precision, as cos(exp(x**2)) at x = 9,
    whose argument has more digits before the point than the working precision keeps)."""
    low, high = _value(residue, point, LOW_DIGITS), _value(residue, point, HIGH_DIGITS)
    if low is None or high is None:
        return None
    if high == 0 or (low != 0 and abs(high) <= SHRINK * abs(low)):
        return True
    return False if abs(high - low) <= AGREE * abs(high) else None


def _random_points(rng: np.random.Generator, n: int, dimensions: int, decades: int = 1) -> np.ndarray:
    """n points, alternately uniform in (-10, 10) and of magnitude 10^U(-2, decades)."""
    shape = (n // 2, dimensions)
    uniform = rng.uniform(-10, 10, shape)
    scaled = rng.choice([-1.0, 1.0], shape) * 10 ** rng.uniform(-2, decades, shape)
    return np.stack([uniform, scaled], axis=1).reshape(-1, dimensions)


def _screened(domain: sp.Expr, symbols: Sequence[sp.Symbol], rng: np.random.Generator) -> np.ndarray:
    """The points, of SCREENED random ones, where numpy finds `domain` real and finite (none where numpy cannot
    evaluate it)."""
    points = _random_points(rng, SCREENED, len(symbols), decades=3)
    try:
        function = sp.lambdify(symbols, domain, modules="numpy")
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(function(*points.T.astype(complex)), dtype=complex), len(points))
    except (NameError, TypeError, ValueError, AttributeError, ArithmeticError):  # a function numpy lacks
        return points[:0]
    return points[np.isfinite(values) & (np.abs(values.imag) <= 1e-10 * np.abs(values))]


def _centres(
    domain_f: Callable[..., object], domain: sp.Expr, symbols: Sequence[sp.Symbol], rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Points where the problem is real: among CANDIDATES random points, then, where too few of them are,
    among the real ones of SCREENED more."""
    found = 0
    for point in _random_points(rng, CANDIDATES, len(symbols)):
        if _real(domain_f, point):
            found += 1
            yield point
    if found < CLUSTERS:
        for point in _screened(domain, symbols, rng)[:CANDIDATES]:
            if _real(domain_f, point):
                yield point


def _cluster(
    residue: Callable[..., object], domain: Callable[..., object], centre: np.ndarray, rng: np.random.Generator
) -> bool | None:
    """Whether the residue vanishes on a whole neighbourhood of `centre` (None: too few usable points)."""
    radius = CLUSTER_RADIUS * np.minimum(1.0, np.abs(centre))
    for _ in range(3):
        usable = 0
        for point in centre + rng.uniform(-1, 1, (CLUSTER_POINTS, len(centre))) * radius:
            vanishes = _vanishes(residue, point) if _real(domain, point) else None
            if vanishes is False:
                return False
            usable += vanishes is True
        if usable >= CLUSTER_POINTS - 1:
            return True
        radius = radius / 10
    return None


def numerically_zero(
    residue: sp.Expr,
    domain: sp.Expr,
    symbols: Sequence[sp.Symbol],
    rng: np.random.Generator,
    everywhere: bool = True,
) -> bool | None:
    """Whether `residue` vanishes on small neighbourhoods of random points where `domain` (the problem) is real:
    on every one (`everywhere`), or on a whole one at least; None when too few points are usable.

    Why neighbourhoods: an analytic expression that vanishes on an open set vanishes on its whole branch, so a
    near miss, which vanishes at isolated points at most, never passes. An antiderivative must hold wherever
    the problem is real (`sqrt(x**2)` is not one of 1); an ODE solution may hold on one branch only (a
    solution through atan(tan(u)) solves its equation where tan is inverted), hence `everywhere=False`.
    """
    residue_f = sp.lambdify(symbols, residue, modules="mpmath")
    domain_f = sp.lambdify(symbols, domain, modules="mpmath")
    verdicts = []
    for centre in _centres(domain_f, domain, symbols, rng):
        verdict = _cluster(residue_f, domain_f, centre, rng)
        if verdict is False and everywhere:
            return False
        if verdict is not None:
            verdicts.append(verdict)
        if len(verdicts) == CLUSTERS:
            break
    if not verdicts:
        return None
    return all(verdicts) if everywhere else any(verdicts)


def check_zero(
    residue: Callable[[], sp.Expr],
    domain: sp.Expr,
    symbols: Sequence[sp.Symbol],
    seconds: float,
    seed: int,
    everywhere: bool = True,
) -> Verdict:
    """Verdict on "the residue built by `residue()` is zero": numerically, then (where the numbers cannot
    decide) symbolically, `seconds` each."""
    try:
        with time_limit(seconds):
            built = residue()
            if built == 0:
                return Verdict.CORRECT
            zero = numerically_zero(built, domain, symbols, np.random.default_rng(seed), everywhere)
    except TimeLimitExceeded:
        return Verdict.TIMEOUT
    except Exception:  # sympy raises many kinds on odd input: a broken hypothesis is an error, never a crash
        return Verdict.ERROR
    if zero is not None:
        return Verdict.CORRECT if zero else Verdict.WRONG
    try:  # real at too few points: only an exact zero is an answer on the domain
        with time_limit(seconds):
            return Verdict.CORRECT if sp.simplify(built) == 0 else Verdict.WRONG
    except TimeLimitExceeded:
        return Verdict.TIMEOUT
    except Exception:
        return Verdict.ERROR


def check_antiderivative(
    integrand: sp.Expr, candidate: sp.Expr, x: sp.Symbol, seconds: float = 1.0, seed: int = 0
) -> Verdict:
    """Verdict on `candidate` as an antiderivative of `integrand` (both functions of `x`).

    Each stage (numeric, then symbolic where needed) has `seconds`; a candidate that exhausts one is a TIMEOUT.
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
