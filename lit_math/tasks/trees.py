"""Random unary-binary expression trees, uniform among the trees with n internal nodes (Lample & Charton 2020).

A recursive coin flip favours small, shallow trees; counting the trees that can still be completed and
drawing each node in proportion to them (the paper's Appendix C) makes every tree shape with n internal nodes
equally likely. Operators and leaves are then drawn with their own weights.

Trees are built with symengine, a compiled engine: building one with sympy cost as much as differentiating it
(about 6 ms at 15 operators), with symengine a fiftieth of that. `sample` gives the sympy expression, converted
exactly (node by node, never through text), which is what sympy itself builds from the same operators.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import symengine as se
import sympy as sp
from symengine.lib.symengine_wrapper import sympy2symengine

from lit_math.errors import ConfigError, check_int

UNARY_OPERATORS = (
    "sqrt",
    "pow2",
    "pow3",
    "pow4",
    "pow5",
    "ln",
    "exp",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
)
BINARY_OPERATORS = ("add", "sub", "mul", "div")
DEFAULT_WEIGHTS: dict[str, float] = {
    "add": 10,
    "sub": 3,
    "mul": 10,
    "div": 5,
    "sqrt": 4,
    "pow2": 4,
    "pow3": 2,
    "pow4": 1,
    "pow5": 1,
    "ln": 4,
    "exp": 4,
    "sin": 4,
    "cos": 4,
    "tan": 4,
    "asin": 1,
    "acos": 1,
    "atan": 1,
    "sinh": 1,
    "cosh": 1,
    "tanh": 1,
    "asinh": 1,
    "acosh": 1,
    "atanh": 1,
}
"""The reference implementation's default operator weights."""

LEAF, UNARY, BINARY = 0, 1, 2


@functools.cache
def count_trees(empty: int, internal: int) -> int:
    """Unary-binary trees that complete `empty` open slots with exactly `internal` more operator nodes.

    D(0, n) = 0 for n > 0; D(e, 0) = 1; D(e, n) = D(e - 1, n) + D(e, n - 1) + D(e + 1, n - 1): the first slot is
    a leaf, a unary node or a binary node.
    """
    if internal == 0:
        return 1
    if empty == 0:
        return 0
    return count_trees(empty - 1, internal) + count_trees(empty, internal - 1) + count_trees(empty + 1, internal - 1)


def random_shape(rng: np.random.Generator, internal: int) -> list[int]:
    """A tree shape in prefix order (LEAF, UNARY, BINARY per node), uniform among those with `internal` operators."""
    out: list[int] = []
    empty, left = 1, internal
    while left > 0:
        # choose how many of the open slots become leaves (k) and the arity of the next operator
        weights = []
        for k in range(empty):
            weights += [count_trees(empty - k, left - 1), count_trees(empty - k + 1, left - 1)]
        total = count_trees(empty, left)
        choice = int(rng.choice(len(weights), p=np.array(weights, dtype=np.float64) / total))
        k, arity = divmod(choice, 2)
        out += [LEAF] * k + [UNARY if arity == 0 else BINARY]
        empty, left = empty - k + arity, left - 1  # the chosen slot is filled, its 1 or 2 children open
    return out + [LEAF] * empty


@dataclass(frozen=True)
class ExpressionSampler:
    """Random expressions: uniform tree shapes, weighted operators, leaves variables or small integers."""

    max_ops: int = 15
    """Internal nodes are drawn uniformly in 1..max_ops."""
    weights: Mapping[str, float] | None = None
    """Operator weights (default DEFAULT_WEIGHTS); an operator absent or at 0 is never used."""
    leaf_variable: float = 0.75
    """Share of leaves that are variables; the others are integers in -max_leaf..max_leaf without 0."""
    max_leaf: int = 5
    variables: tuple[str, ...] = ("x",)
    """Variable leaves, drawn uniformly (ODE solutions also use their constants c1, c2 as leaves)."""

    def __post_init__(self) -> None:
        check_int("max_ops", self.max_ops, 1, 100)
        check_int("max_leaf", self.max_leaf, 1)
        weights = dict(DEFAULT_WEIGHTS if self.weights is None else self.weights)
        unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ConfigError(f"unknown operators {unknown}; known: {', '.join(DEFAULT_WEIGHTS)}")
        for arity, names in (("unary", UNARY_OPERATORS), ("binary", BINARY_OPERATORS)):
            if sum(weights.get(name, 0) for name in names) <= 0:
                raise ConfigError(f"at least one {arity} operator needs a positive weight ({', '.join(names)})")
        if not 0 <= self.leaf_variable <= 1:
            raise ConfigError(f"leaf_variable is a share in 0..1, got {self.leaf_variable}")
        if not self.variables:
            raise ConfigError("an expression needs at least one variable leaf")
        object.__setattr__(self, "_weights", weights)
        object.__setattr__(self, "_symbols", tuple(se.Symbol(name) for name in self.variables))

    def _draw(self, rng: np.random.Generator, names: tuple[str, ...]) -> str:
        w = np.array([self._weights.get(name, 0.0) for name in names], dtype=np.float64)
        return names[int(rng.choice(len(names), p=w / w.sum()))]

    def sample(self, rng: np.random.Generator, internal: int | None = None) -> sp.Expr:
        """One expression with `internal` operators (default: uniform in 1..max_ops); sympy may simplify it."""
        return to_sympy(self.draw(rng, internal))

    def draw(self, rng: np.random.Generator, internal: int | None = None) -> se.Basic:
        """`sample`'s expression as symengine builds it, for the generators' symbolic steps."""
        internal = int(rng.integers(1, self.max_ops + 1)) if internal is None else internal
        shape = iter(random_shape(rng, internal))
        return self._build(rng, shape)

    def _build(self, rng: np.random.Generator, shape) -> se.Basic:
        kind = next(shape)
        if kind == LEAF:
            if rng.random() < self.leaf_variable:
                return (
                    self._symbols[int(rng.integers(len(self._symbols)))] if len(self._symbols) > 1 else self._symbols[0]
                )
            value = int(rng.integers(1, self.max_leaf + 1))
            return se.Integer(value if rng.random() < 0.5 else -value)
        if kind == UNARY:
            return apply_operator(self._draw(rng, UNARY_OPERATORS), self._build(rng, shape))
        name = self._draw(rng, BINARY_OPERATORS)
        left = self._build(rng, shape)
        return apply_operator(name, left, self._build(rng, shape))


FUNCTIONS = {
    "sqrt": se.sqrt,
    "exp": se.exp,
    "ln": se.log,
    "sin": se.sin,
    "cos": se.cos,
    "tan": se.tan,
    "asin": se.asin,
    "acos": se.acos,
    "atan": se.atan,
    "sinh": se.sinh,
    "cosh": se.cosh,
    "tanh": se.tanh,
    "asinh": se.asinh,
    "acosh": se.acosh,
    "atanh": se.atanh,
}
OPERATIONS = {"add": se.Add, "sub": lambda a, b: a - b, "mul": se.Mul, "div": lambda a, b: a / b}


def apply_operator(name: str, *args: se.Basic) -> se.Basic:
    """The symengine expression of a generator operator (the codec's, plus pow2..pow5). symengine refuses some
    operations on infinities (sin(zoo), zoo * I), which sympy leaves undefined: both are NaN here, which the
    codec rejects as not encodable, as before."""
    try:
        if name in OPERATIONS:
            return OPERATIONS[name](*args)
        if name.startswith("pow"):
            return args[0] ** int(name[3:])
        return FUNCTIONS[name](args[0])
    except RuntimeError:  # "sin is not defined for infinite values", "Multiplication with Complex not implemented"
        return se.nan


def to_sympy(expr: se.Basic) -> sp.Expr:
    """The sympy expression of a symengine one, built node by node (symengine's own conversion, no text)."""
    return expr._sympy_()


def to_symengine(expr: sp.Expr) -> se.Basic:
    """The symengine expression of a sympy one, built node by node: the converter `se.sympify` calls for sympy
    objects, called directly, since `sympify` would also parse a string."""
    return sympy2symengine(expr, True)
