"""Cheap simplification: the shortest, in tokens, of a few exact rewrites made by symengine, a compiled engine.

Why not sympy's `simplify`: on random derivatives it runs past a second on a sixth of them (mostly in
`trigsimp`), and its cheaper passes (`factor_terms`, `expand_mul`, `together`) still cost about 20 ms per
derivative, most of what a BWD pair cost; the same kind of rewrites in symengine cost well under a millisecond
and give forms as short in tokens, the length the model sees (BENCHMARKS.md has the figures).
"""

from __future__ import annotations

import math
from fractions import Fraction

import symengine as se
import sympy as sp

from lit_math.encoding.expressions import EncodeError, PrefixCodec
from lit_math.tasks.trees import to_symengine, to_sympy

MAX_EXPANDED_TERMS = 256
"""A form is expanded only when its expansion has at most this many terms: a symengine call cannot be
interrupted by the time limit, and ((a + b + c)**5)**5 would expand to thousands of terms (far beyond the
512-token limit anyway)."""


def simplified(expr: sp.Expr | se.Basic, codec: PrefixCodec) -> sp.Expr:
    """An equal form of `expr` with few tokens: the shortest of cheap exact rewrites (common factors taken out,
    one fraction, products expanded, tan^2 + 1 = 1/cos^2). The result is rebuilt from its tokens, so that it is
    exactly what decoding them gives."""
    expr = to_symengine(expr) if isinstance(expr, sp.Basic) else expr
    factored = _factored(expr)
    forms = [expr, factored, _together(factored)]
    if expanded_terms(factored) <= MAX_EXPANDED_TERMS:
        expanded = se.expand(factored)
        forms += [expanded, _factored(expanded)]
    best = _shortest(codec, forms)  # counted in symengine's form: no conversion to sympy but the winner's
    try:
        return codec.rebuilt(best)
    except EncodeError:
        return to_sympy(best)  # encode_pair rejects it


def tokens(codec: PrefixCodec, expr: sp.Expr | se.Basic) -> float:
    try:
        return len(codec.encode(expr))
    except EncodeError:
        return float("inf")


def _shortest(codec: PrefixCodec, forms: list[se.Basic]) -> se.Basic:
    """The form with the fewest tokens (the first among equals)."""
    return min(forms, key=lambda form: tokens(codec, form))


def expanded_terms(expr: se.Basic) -> int:
    """An upper bound on the terms of `se.expand(expr)` (which leaves function arguments alone), computed
    without expanding: a sum adds its terms' counts, a product multiplies them, an integer power n of k terms
    has at most C(n + k - 1, k - 1)."""
    if isinstance(expr, se.Add):
        return sum(expanded_terms(term) for term in expr.args)
    if isinstance(expr, se.Mul):
        return math.prod(expanded_terms(factor) for factor in expr.args)
    if isinstance(expr, se.Pow) and isinstance(expr.args[1], se.Integer):
        k, n = expanded_terms(expr.args[0]), abs(int(expr.args[1]))
        return math.comb(n + k - 1, k - 1) if k > 1 else 1
    return 1


def _together(expr: se.Basic) -> se.Basic:
    """One fraction, numerator over denominator (sympy's `together`)."""
    numerator, denominator = expr.as_numer_denom()
    return numerator / denominator


def _factored(expr: se.Basic) -> se.Basic:
    """sympy's `factor_terms` throughout the tree: every sum's common factor (numeric content, shared powers)
    taken out, plus 1 + tan(u)^2 -> 1/cos(u)^2 and 1 - tanh(u)^2 -> 1/cosh(u)^2, the derivatives of tan and
    tanh as both engines write them (sympy's `simplify` found these in `trigsimp`, its slowest step)."""
    if not expr.args:
        return expr
    expr = expr.func(*(_factored(arg) for arg in expr.args))
    if not isinstance(expr, se.Add):
        return expr
    return _pythagoras(expr) or _common_factor(expr)


def _pythagoras(add: se.Add) -> se.Basic | None:
    if len(add.args) != 2 or add.args[0] != 1:
        return None
    term = add.args[1]
    sign, square = (-1, -term) if isinstance(term, se.Mul) and term.args[0] == -1 else (1, term)
    if not (isinstance(square, se.Pow) and square.args[1] == 2):
        return None
    inner = square.args[0]
    if sign == 1 and isinstance(inner, se.tan):
        return se.cos(inner.args[0]) ** -2
    if sign == -1 and isinstance(inner, se.tanh):
        return se.cosh(inner.args[0]) ** -2
    return None


def _common_factor(add: se.Add) -> se.Basic:
    """content * (shared bases to their smallest power) * (what is left of the sum), or the sum itself."""
    coefficients = [_coefficient(term) for term in add.args]
    rests = [term / se.Rational(c.numerator, c.denominator) for term, c in zip(add.args, coefficients, strict=True)]
    numerator = math.gcd(*(c.numerator for c in coefficients))
    common = se.Rational(
        -numerator if all(c < 0 for c in coefficients) else numerator,
        math.lcm(*(c.denominator for c in coefficients)),
    )
    powers = [rest.as_powers_dict() for rest in rests]
    for base in set(powers[0]).intersection(*powers[1:]):
        exponents = [p[base] for p in powers]
        if all(isinstance(e, se.Rational) for e in exponents) and (
            all(e > 0 for e in exponents) or all(e < 0 for e in exponents)
        ):
            common *= base ** min(exponents, key=abs)
        elif all(e == exponents[0] for e in exponents):
            common *= base ** exponents[0]
    if common == 1:
        return add
    rest = se.Add(*(term / common for term in add.args))
    return se.Mul(common, _pythagoras(rest) or rest)  # 3 - 3 tanh(u)^2 = 3 (1 - tanh(u)^2) = 3 / cosh(u)^2


def _coefficient(term: se.Basic) -> Fraction:
    """The rational factor of a term (1 when it has none)."""
    number = term if isinstance(term, se.Rational) else term.args[0] if isinstance(term, se.Mul) else None
    if not isinstance(number, se.Rational):
        return Fraction(1)
    numerator, denominator = number.get_num_den()
    return Fraction(int(numerator), int(denominator))
