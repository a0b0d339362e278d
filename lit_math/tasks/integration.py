"""Integration problems (Lample & Charton 2020): pairs (f, F) with F' = f, made three ways.

FWD draws a random f and integrates it with sympy (rejecting what sympy leaves unevaluated); BWD draws a
random F and differentiates it; IBP integrates F g by parts, F G - integral(f G), which needs the integral of
f G: either joined from a FWD/BWD corpus of known pairs (`known`, the paper's "previously generated pairs"),
or sympy's, remembered per process, for random F and G. Every
sympy step runs under a time limit; a pair is kept only when both sides encode (real, finite, known
functions), fit the length limit, and the problem depends on x.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import symengine as se
import sympy as sp

from lit_math.encoding.expressions import EncodeError, PrefixCodec
from lit_math.errors import ConfigError, check_choice
from lit_math.shards import read_pairs
from lit_math.tasks.simplify import simplified, tokens
from lit_math.tasks.symbolic import Pair, Rejection, SymbolicTask, timed_pair
from lit_math.tasks.time_limit import within
from lit_math.tasks.trees import ExpressionSampler
from lit_math.tasks.verify import Verdict, check_antiderivative

X = sp.Symbol("x")
SE_X = se.Symbol("x")

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


def derivative(F: se.Basic) -> se.Basic:
    """dF/dx by symengine, except that acosh(u)' is u' / (sqrt(u - 1) sqrt(u + 1)), sympy's rule, where symengine
    writes u' / sqrt(u**2 - 1), which is the opposite for u < -1 (there acosh is complex, its derivative real):
    each outermost acosh(u) stands for a symbol a while the rest is differentiated, and adds dF/da times its
    own derivative."""
    arcs = {arc: se.Dummy("a") for arc in F.atoms(se.acosh)}
    G = F.xreplace(arcs)
    outermost = [(arc, a) for arc, a in arcs.items() if G.has(a)]
    dG = G.diff(SE_X)
    for arc, a in outermost:
        u = arc.args[0]
        dG += G.diff(a) * derivative(u) / (se.sqrt(u - 1) * se.sqrt(u + 1))
    return dG.xreplace({a: arc for arc, a in outermost})


def backward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 1.0
) -> Pair | Rejection:
    """BWD: a random F, and f = F' simplified."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        F = sampler.draw(rng)
        rejected = _unusable(F, codec, max_len)
        return rejected or _nontrivial(simplified(derivative(F), codec), codec.rebuilt(F))

    return timed_pair(make, codec, max_len, seconds)


def forward_pair(
    rng: np.random.Generator, sampler: ExpressionSampler, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """FWD: a random f, and F = integrate(f), kept only when sympy finds a closed form in time."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        f = sampler.draw(rng)
        rejected = _unusable(f, codec, max_len)
        if rejected:
            return rejected
        f = codec.rebuilt(f)
        F = integral(f, seconds * INTEGRATE_SHARE)
        return F if isinstance(F, Rejection) else _nontrivial(f, simplified(F, codec))

    return timed_pair(make, codec, max_len, seconds)


_INTEGRALS: dict[tuple[sp.Expr, float], sp.Expr | Rejection] = {}
MAX_REMEMBERED = 100_000


def known_integral(integrand: sp.Expr, seconds: float) -> sp.Expr | Rejection:
    """`integral`, remembered per process (IBP asks for the same ones again); a timeout is not remembered, since
    the pair's own time limit may have cut it short."""
    key = (integrand, seconds)
    if key not in _INTEGRALS:
        result = integral(integrand, seconds)
        if result is Rejection.TIMEOUT:
            return result
        if len(_INTEGRALS) < MAX_REMEMBERED:
            _INTEGRALS[key] = result
        return result
    return _INTEGRALS[key]


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


class KnownIntegrals:
    """The pairs (h, H) of a FWD or BWD corpus, with H' = h, indexed by h's tokens: IBP's known primitives."""

    def __init__(self, directory: str) -> None:
        self.pairs = [(tuple(problem), tuple(solution)) for _, problem, solution in read_pairs(Path(directory))]
        self.index = {problem: solution for problem, solution in reversed(self.pairs)}  # the first one wins
        if not self.pairs:
            raise ConfigError(f"the corpus {directory} is empty: IBP needs known integrals")

    def primitive(self, integrand: sp.Expr, codec: PrefixCodec) -> sp.Expr | None:
        try:
            solution = self.index.get(tuple(codec.encode(integrand)))
        except EncodeError:
            return None
        return None if solution is None else codec.decode(solution)


@functools.cache
def known_integrals(directory: str) -> KnownIntegrals:
    """Read once per process (each dataloader worker reads its own)."""
    return KnownIntegrals(directory)


def joined_parts_pair(
    rng: np.random.Generator, known: KnownIntegrals, codec: PrefixCodec, max_len: int = 512, seconds: float = 3.0
) -> Pair | Rejection:
    """IBP as a join over known pairs: a known (h, H) whose h is a product f G, and F, an antiderivative of the
    factor f (known too, or sympy's), give the pair (F g, F G - H), since the integral of F g is F G minus that
    of f G = h. Only differentiation and simplification are new work; the integrals are the corpus's."""

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        problem, solution = known.pairs[int(rng.integers(len(known.pairs)))]
        h, H = codec.decode(problem), codec.decode(solution)
        factors = [factor for factor in sp.Mul.make_args(h) if factor.has(X)]
        if len(factors) < 2:
            return Rejection.TRIVIAL  # not a product of two functions of x
        chosen = rng.permutation(len(factors))[: int(rng.integers(1, len(factors)))]
        f = sp.Mul(*(factors[k] for k in chosen))
        G = h / f
        F = known.primitive(f, codec)
        F = integral(f, seconds * INTEGRATE_SHARE) if F is None else F
        if isinstance(F, Rejection):
            return F
        g = sp.diff(G, X)
        return _nontrivial(simplified(F * g, codec), simplified(F * G - H, codec))

    return timed_pair(make, codec, max_len, seconds)


def _unusable(expr: se.Basic, codec: PrefixCodec, max_len: int) -> Rejection | None:
    """Why a side of the pair that is already final would be rejected (before the costly steps), or None."""
    if not expr.has(SE_X):
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
    """``fwd`` (integrate a random f with sympy), ``bwd`` (differentiate a random F) or ``ibp`` (integration
    by parts)."""
    known: str | None = None
    """``ibp`` only: a FWD or BWD corpus (``lit-math generate``) whose known integrals IBP joins (the paper's
    "previously generated pairs"); without it, IBP integrates f G with sympy for random F, G."""

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, tuple(MODES))
        if self.known is not None and self.mode != "ibp":
            raise ConfigError(f"known={self.known!r} is for mode ibp (integration by parts), not {self.mode}")
        if self.known is not None:
            manifest = Path(self.known) / "manifest.json"
            written = json.loads(manifest.read_text()).get("task", {}) if manifest.is_file() else {}
            if written.get("family") != self.family or written.get("mode") not in ("fwd", "bwd"):
                raise ConfigError(
                    f"known={self.known!r} is not a FWD or BWD integration corpus (its task: {written or 'none'}); "
                    "write one with `lit-math generate --config configs/integration/bwd.yaml`"
                )
        super().__post_init__()

    def make_pair(self, rng: np.random.Generator) -> Pair | Rejection:
        if self.known is not None:
            return joined_parts_pair(rng, known_integrals(self.known), self.codec, self.max_len, self.seconds)
        return MODES[self.mode](rng, self.sampler, self.codec, self.max_len, self.seconds)

    def verify(self, problem: sp.Expr, answer: sp.Expr, seed: int) -> Verdict:
        return check_antiderivative(problem, answer, X, self.seconds, seed)
