"""Integration problems (Lample & Charton 2020): pairs (f, F) with F' = f, made three ways.

FWD draws a random f and integrates it with sympy (rejecting what sympy leaves unevaluated); BWD draws a
random F and differentiates it; IBP draws F and G and integrates F g by parts, F G - integral(f G), which
needs the integral of f G (sympy's, remembered per process as the paper's cache of known primitives). Every
sympy step runs under a time limit; a pair is kept only when both sides encode (real, finite, known
functions), fit the length limit, and the problem depends on x.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import sympy as sp

from lit_math.encoding.expressions import PrefixCodec
from lit_math.errors import check_choice
from lit_math.tasks.simplify import simplified, tokens
from lit_math.tasks.symbolic import Pair, Rejection, SymbolicTask, timed_pair
from lit_math.tasks.time_limit import within
from lit_math.tasks.trees import ExpressionSampler
from lit_math.tasks.verify import Verdict, check_antiderivative

X = sp.Symbol("x")

INTEGRATE_SHARE = 1 / 3
"""Share of the pair's time limit that one sympy `integrate` gets (FWD, IBP: 1 s of the usual 3 s). On random
integrands it finds 95% of the closed forms it finds in 3 s within 1 s; the others, and the failures, which
mostly run until the limit (in `heurisch` or `manualintegrate`), are what the full limit buys, at about three
times the cost per kept pair."""


def integral(integrand: sp.Expr, seconds: float) -> sp.Expr | Rejection:
    """sympy's antiderivative of `integrand`; UNEVALUATED when it finds no closed form, TIMEOUT when it takes
    over `seconds`."""
    F = within(seconds, lambda: sp.integrate(integrand, X), Rejection.TIMEOUT)
    return Rejection.UNEVALUATED if isinstance(F, sp.Basic) and F.has(sp.Integral) else F


def backward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 1.0
) -> Pair | Rejection:
    """BWD: a random F, and f = F' simplified."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        F = sampler.sample(rng)
        rejected = _unusable(F, codec, max_len)
        return rejected or _nontrivial(simplified(sp.diff(F, X), codec), F)

    return timed_pair(make, codec, max_len, seconds)


def forward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """FWD: a random f, and F = integrate(f), kept only when sympy finds a closed form in time."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        f = sampler.sample(rng)
        rejected = _unusable(f, codec, max_len)
        if rejected:
            return rejected
        F = integral(f, seconds * INTEGRATE_SHARE)
        return F if isinstance(F, Rejection) else _nontrivial(f, simplified(F, codec))

    return timed_pair(make, codec, max_len, seconds)


@functools.lru_cache(maxsize=100_000)
def known_integral(integrand: sp.Expr, seconds: float) -> sp.Expr | Rejection:
    """`integral`, remembered (failures and timeouts too): IBP asks for the same ones again."""
    return integral(integrand, seconds)


def parts_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """IBP: random F and G; with f = F', g = G' and H an antiderivative of f G, the pair (F g, F G - H)."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        F, G = sampler.sample(rng), sampler.sample(rng)
        if not G.has(X):
            return Rejection.TRIVIAL  # the problem F g is 0
        f, g = simplified(sp.diff(F, X), codec), simplified(sp.diff(G, X), codec)
        H = known_integral(f * G, seconds * INTEGRATE_SHARE)
        if isinstance(H, Rejection):
            return H
        return _nontrivial(simplified(F * g, codec), simplified(F * G - H, codec))

    return timed_pair(make, codec, max_len, seconds)


def _unusable(expr: sp.Expr, codec: PrefixCodec, max_len: int) -> Rejection | None:
    """Why a side of the pair that is already final would be rejected (before the costly steps), or None."""
    if not expr.has(X):
        return Rejection.TRIVIAL
    length = tokens(codec, expr)
    return Rejection.NOT_ENCODABLE if length == float("inf") else Rejection.TOO_LONG if length > max_len else None


def _nontrivial(f: sp.Expr, F: sp.Expr) -> tuple[sp.Expr, sp.Expr] | Rejection:
    return (f, F) if f.has(X) and F.has(X) else Rejection.TRIVIAL


MODES = {"fwd": forward_pair, "bwd": backward_pair, "ibp": parts_pair}


@dataclass(frozen=True)
class IntegrationTask(SymbolicTask):
    """Integrate f: the problem is f in prefix tokens, the answer any antiderivative (verified by differentiation)."""

    family: ClassVar[str] = "integration"
    variables: ClassVar[tuple[str, ...]] = ("x",)
    mode: Literal["fwd", "bwd", "ibp"] = "bwd"

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, tuple(MODES))
        super().__post_init__()

    def make_pair(self, rng: np.random.Generator) -> Pair | Rejection:
        return MODES[self.mode](rng, self.sampler, self.codec, self.max_len, self.seconds)

    def verify(self, problem: sp.Expr, answer: sp.Expr, seed: int) -> Verdict:
        return check_antiderivative(problem, answer, X, self.seconds, seed)
