"""Cheap simplification: the shortest of a few exact rewrites, then sympy's `simplify` only when it is quick.

Why not `simplify` alone: on random derivatives it runs past a second on a sixth of them (mostly in
`trigsimp`) and takes a tenth of a second on the others; the rewrites cost about a hundredth of that and give
forms as short in tokens, the length the model sees (BENCHMARKS.md has the figures).
"""

from __future__ import annotations

import sympy as sp

from lit_math.encoding.expressions import EncodeError, PrefixCodec
from lit_math.tasks.time_limit import within

SIMPLIFY_SECONDS = 0.1
"""sympy's full `simplify` gets this long, on top of the cheap rewrites: on random derivatives it finishes in a
few hundredths of a second or runs for seconds in `trigsimp`."""
SIMPLIFY_TOKENS = 40
"""Only forms up to this many tokens go through the full `simplify`; on longer ones it rarely finishes in time."""


def simplified(expr: sp.Expr, codec: PrefixCodec, seconds: float = SIMPLIFY_SECONDS) -> sp.Expr:
    """An equal form of `expr` with few tokens: the shortest of cheap exact rewrites (common factors, one
    fraction, products expanded, tan^2 + 1 = 1/cos^2), then sympy's `simplify` of it when short and quick.
    The result is rebuilt from its tokens, so that it is exactly what decoding them gives.
    """
    factored = _pythagoras(sp.factor_terms(expr))
    expanded = sp.expand_mul(factored)
    best = _shortest(codec, expr, factored, sp.together(factored), expanded, sp.factor_terms(expanded))
    if tokens(codec, best) <= SIMPLIFY_TOKENS:
        best = _shortest(codec, best, within(seconds, lambda: sp.simplify(best), best))
    try:
        return codec.decode(codec.encode(best))
    except EncodeError:
        return best  # encode_pair rejects it


def tokens(codec: PrefixCodec, expr: sp.Expr) -> float:
    try:
        return len(codec.encode(expr))
    except EncodeError:
        return float("inf")


def _shortest(codec: PrefixCodec, *forms: sp.Expr) -> sp.Expr:
    """The form with the fewest tokens (the first among equals)."""
    return min(forms, key=lambda form: tokens(codec, form))


def _pythagoras(expr: sp.Expr) -> sp.Expr:
    """1 + tan(u)^2 -> 1/cos(u)^2 and 1 - tanh(u)^2 -> 1/cosh(u)^2: the derivatives of tan and tanh as sympy
    writes them, which its `simplify` rewrites (in `trigsimp`, its slowest step)."""

    def rewrite(add: sp.Expr) -> sp.Expr:
        if len(add.args) != 2 or sp.S.One not in add.args:
            return add
        term = add.args[1] if add.args[0] is sp.S.One else add.args[0]
        sign, square = (-1, -term) if term.could_extract_minus_sign() else (1, term)
        if not (square.is_Pow and square.exp == 2):
            return add
        if sign == 1 and isinstance(square.base, sp.tan):
            return sp.cos(square.base.args[0]) ** -2
        if sign == -1 and isinstance(square.base, sp.tanh):
            return sp.cosh(square.base.args[0]) ** -2
        return add

    return expr.replace(lambda e: e.is_Add, rewrite)
