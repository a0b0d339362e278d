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
from lit_math.tasks.symbolic import Pair, Rejection, SymbolicTask, timed_pair
from lit_math.tasks.trees import ExpressionSampler
from lit_math.tasks.verify import Verdict, check_antiderivative

X = sp.Symbol("x")


def backward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 1.0
) -> Pair | Rejection:
    """BWD: a random F, and f = simplify(F')."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        F = sampler.sample(rng)
        return _nontrivial(sp.simplify(sp.diff(F, X)), F)

    return timed_pair(make, codec, max_len, seconds)


def forward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """FWD: a random f, and F = integrate(f), kept only when sympy finds a closed form in time."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        f = sampler.sample(rng)
        F = sp.integrate(f, X)
        return Rejection.UNEVALUATED if F.has(sp.Integral) else _nontrivial(f, sp.simplify(F))

    return timed_pair(make, codec, max_len, seconds)


@functools.lru_cache(maxsize=100_000)
def known_integral(integrand: sp.Expr) -> sp.Expr | None:
    """sympy's antiderivative of `integrand`, or None; remembered, since IBP asks for the same ones again."""
    F = sp.integrate(integrand, X)
    return None if F.has(sp.Integral) else F


def parts_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """IBP: random F and G; with f = F', g = G' and H an antiderivative of f G, the pair (F g, F G - H)."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        F, G = sampler.sample(rng), sampler.sample(rng)
        f, g = sp.simplify(sp.diff(F, X)), sp.simplify(sp.diff(G, X))
        H = known_integral(f * G)
        if H is None:
            return Rejection.UNEVALUATED
        return _nontrivial(sp.simplify(F * g), sp.simplify(F * G - H))

    return timed_pair(make, codec, max_len, seconds)


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
