"""Integration problems (Lample & Charton 2020): pairs (f, F) with F' = f, made forward or backward.

FWD draws a random f and integrates it with sympy (rejecting what sympy leaves unevaluated); BWD draws a
random F and differentiates it. Every sympy call runs under a time limit; a pair is kept only when both
sides encode (real, finite, known functions), fit the length limit, and the problem is not trivial.
Each rejection has a reason, so generators can count them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from lit_math.encoding.expressions import EncodeError, PrefixCodec
from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit
from lit_math.tasks.trees import ExpressionSampler

X = sp.Symbol("x")


class Rejection(enum.Enum):
    TIMEOUT = "timeout"
    """A sympy call ran out of time."""
    UNEVALUATED = "unevaluated"
    """sympy could not integrate (FWD)."""
    NOT_ENCODABLE = "not_encodable"
    """Complex, infinite or undefined values, or functions outside the vocabulary."""
    TOO_LONG = "too_long"
    TRIVIAL = "trivial"
    """The problem does not depend on x (a constant to integrate), or the draw collapsed to a constant."""
    ERROR = "error"
    """sympy raised on the expression."""


@dataclass(frozen=True)
class Pair:
    problem: sp.Expr
    """The integrand f."""
    solution: sp.Expr
    """An antiderivative F."""
    problem_tokens: tuple[str, ...]
    solution_tokens: tuple[str, ...]


def _encode_pair(codec: PrefixCodec, f: sp.Expr, F: sp.Expr, max_len: int) -> Pair | Rejection:
    if not f.has(X) or not F.has(X):
        return Rejection.TRIVIAL
    try:
        problem, solution = codec.encode(f), codec.encode(F)
    except EncodeError:
        return Rejection.NOT_ENCODABLE
    if max(len(problem), len(solution)) > max_len:
        return Rejection.TOO_LONG
    return Pair(f, F, tuple(problem), tuple(solution))


def _timed_pair(
    make: Callable[[], tuple[sp.Expr, sp.Expr] | Rejection], codec: PrefixCodec, max_len: int, seconds: float
) -> Pair | Rejection:
    """Run a generator step `make` -> (f, F) under the time limit, then clean and encode its pair."""
    try:
        with time_limit(seconds):
            made = make()
    except TimeLimitExceeded:
        return Rejection.TIMEOUT
    except Exception:  # sympy raises many kinds on random input
        return Rejection.ERROR
    return made if isinstance(made, Rejection) else _encode_pair(codec, *made, max_len)


def backward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 1.0
) -> Pair | Rejection:
    """BWD: a random F, and f = simplify(F')."""

    def make() -> tuple[sp.Expr, sp.Expr]:
        F = sampler.sample(rng)
        return sp.simplify(sp.diff(F, X)), F

    return _timed_pair(make, codec, max_len, seconds)


def forward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """FWD: a random f, and F = integrate(f), kept only when sympy finds a closed form in time."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        f = sampler.sample(rng)
        F = sp.integrate(f, X)
        return Rejection.UNEVALUATED if F.has(sp.Integral) else (f, sp.simplify(F))

    return _timed_pair(make, codec, max_len, seconds)
