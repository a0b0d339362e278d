"""Ordinary differential equations (Lample & Charton 2020): from a random solution back to its equation.

ODE1: draw f(x, c1) with the constant in it, solve f(x, c1) = y for c1 = F(x, y), and differentiate:
F_x + F_y y' = 0 is an equation whose general solution is y = f(x, c1). ODE2 does this twice, for c2 then c1.
The problem is the equation's left side with its denominators cleared (y, y', y'' written `y`, `dy`, `ddy`),
the answer the solution with its constants; an answer is right when it holds every constant and satisfies
the equation (`check_ode_solution`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from lit_math.encoding.expressions import EncodeError, PrefixCodec
from lit_math.errors import check_int
from lit_math.tasks.simplify import simplified
from lit_math.tasks.symbolic import Pair, Rejection, SymbolicTask, timed_pair
from lit_math.tasks.time_limit import within
from lit_math.tasks.trees import ExpressionSampler
from lit_math.tasks.verify import Verdict, check_ode_solution

X, Y, DY, DDY = sp.symbols("x y dy ddy")
C1, C2 = sp.symbols("c1 c2")
DERIVATIVES = (Y, DY, DDY)
CONSTANTS = (C1, C2)


SOLVE_SHARE = 0.05
"""Share of the pair's time limit that sympy's `solve` gets for one constant (0.05 s of the usual 1 s): on random
solutions it finds nearly all the unique solutions it ever finds within that; the solves that take longer are
nearly all of a constant that appears several times, which run until the limit (most of the generator's time)
and then yield several solutions or none. BENCHMARKS.md has the trade-off."""


def _solve_for(expr: sp.Expr, constant: sp.Symbol, seconds: float) -> sp.Expr | Rejection:
    """The one solution of expr = 0 for `constant`; UNEVALUATED when there is none, several, or one still
    holding it, TIMEOUT when `solve` takes over `seconds`."""
    solutions = within(seconds, lambda: sp.solve(expr, constant), Rejection.TIMEOUT)
    if isinstance(solutions, Rejection):
        return solutions
    if len(solutions) != 1 or solutions[0].has(constant):
        return Rejection.UNEVALUATED
    return solutions[0]


def _total_derivative(F: sp.Expr) -> sp.Expr:
    """d/dx F(x, y, y') along y(x): F_x + F_y y' + F_y' y''."""
    return sp.diff(F, X) + sp.diff(F, Y) * DY + sp.diff(F, DY) * DDY


def ode_pair(
    rng: np.random.Generator,
    sampler: ExpressionSampler,
    codec: PrefixCodec,
    order: int,
    max_len: int = 512,
    seconds: float = 1.0,
) -> Pair | Rejection:
    """An equation of the given order (1 or 2) and its general solution."""
    constants = CONSTANTS[:order]

    def make() -> tuple[sp.Expr, sp.Expr] | Rejection:
        solution = sampler.sample(rng)
        if not solution.has(X) or not all(solution.has(c) for c in constants):
            return Rejection.TRIVIAL
        try:
            solution = codec.rebuilt(solution)  # the answer as its tokens read back
        except EncodeError:
            return Rejection.NOT_ENCODABLE
        relation = solution - Y  # = 0 along every solution
        for constant in reversed(constants):  # eliminate c2 (then c1) by solving and differentiating
            value = _solve_for(relation, constant, seconds * SOLVE_SHARE)
            if isinstance(value, Rejection):
                return value
            relation = _total_derivative(value)
        equation = simplified(sp.fraction(sp.together(relation))[0], codec)
        if not equation.has(DERIVATIVES[order]):
            return Rejection.TRIVIAL
        return equation, solution

    return timed_pair(make, codec, max_len, seconds)


@dataclass(frozen=True)
class ODETask(SymbolicTask):
    """Solve an ODE: the problem is an expression of x, y, dy (y'), ddy (y'') equal to 0; the answer y(x)
    with its constants c1 (and c2 for order 2)."""

    family: ClassVar[str] = "ode"
    variables: ClassVar[tuple[str, ...]] = ("x", "y", "dy", "ddy", "c1", "c2")
    order: int = 1
    """1 (ODE1) or 2 (ODE2)."""
    equations: ClassVar[bool] = True
    typed_names: ClassVar[dict[str, str]] = {"y'": "dy", "y''": "ddy"}

    def __post_init__(self) -> None:
        check_int("order", self.order, 1, 2)
        super().__post_init__()

    @property
    def leaves(self) -> tuple[str, ...]:  # the random solution's variables: x and the constants
        return ("x", *(c.name for c in CONSTANTS[: self.order]))

    def make_pair(self, rng: np.random.Generator) -> Pair | Rejection:
        return ode_pair(rng, self.sampler, self.codec, self.order, self.max_len, self.seconds)

    def verify(self, problem: sp.Expr, answer: sp.Expr, seed: int) -> Verdict:
        return check_ode_solution(
            problem, answer, X, DERIVATIVES[: self.order + 1], CONSTANTS[: self.order], self.seconds, seed
        )
