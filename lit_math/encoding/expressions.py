"""Expressions as prefix (Polish) notation of their sympy tree; integers as a sign then decimal digits.

`encode` also writes symengine trees (the generators' engine), whose nodes answer the same questions (is_Add,
args...); symengine writes exp(u) as E**u, which is written `exp u` as sympy's.

`x*cos(x) + 3` is `add mul x cos x + 3`. Sums and products with more than two terms become right-nested binary
nodes, a rational is `div p q`, a square root `sqrt`. Decoding checks everything: a malformed sequence raises
`DecodeError` (which scoring counts as wrong), never another exception.
"""

from __future__ import annotations

from collections.abc import Sequence

import symengine as se
import sympy as sp

from lit_math.encoding.infix import InfixReader
from lit_math.encoding.integers import DecodeError, IntegerCodec

MAX_POWER_BITS = 10_000
"""Largest number a power of numbers may make: `pow + 9 pow + 9 + 9` (seven tokens) is 9**387420489, which
sympy would compute in full, in one uninterruptible big-integer operation."""


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if base.is_Rational and exponent.is_Integer and abs(base) not in (0, 1):
        bits = max(abs(int(base.p)), abs(int(base.q))).bit_length() * abs(int(exponent))
        if bits > MAX_POWER_BITS:
            raise DecodeError(f"a power of numbers with about {bits} bits, over the {MAX_POWER_BITS} allowed")
    return sp.Pow(base, exponent)


BINARY = {"add": sp.Add, "mul": sp.Mul, "pow": _power, "div": lambda a, b: a / b, "sub": lambda a, b: a - b}
UNARY = {
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "ln": sp.log,
    "abs": sp.Abs,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
}
_FUNCTION_TOKENS = {"log": "ln", "Abs": "abs"}
"""Tokens of the functions whose class (in sympy and symengine) has another name."""
_CONSTANT_TOKENS = {"Pi": "pi", "Exp1": "E"}
"""Tokens of the constants, by class name (the same in sympy and symengine, and no comparison across engines,
which would convert)."""
CONSTANTS = {"pi": sp.pi, "E": sp.E}
TYPED_FUNCTIONS = {
    **UNARY,
    "log": sp.log,
    **{f"arc{name[1:]}": UNARY[name] for name in UNARY if name.startswith("a") and name != "abs"},
    "sec": lambda u: 1 / sp.cos(u),
    "csc": lambda u: 1 / sp.sin(u),
    "cot": lambda u: 1 / sp.tan(u),
}
"""Functions people type: the codec's, `log` for ln, `arcsin`... for asin..., and sec, csc, cot written as
1/cos, 1/sin, 1/tan (the codec has no tokens for them)."""


class EncodeError(ValueError):
    """An expression outside what the codec writes (a float, an unknown function, a complex number...)."""


class PrefixCodec:
    """Codec for expressions of the given variables; its tokens are operators, variables, constants, integers."""

    def __init__(self, variables: Sequence[str] = ("x",)) -> None:
        self.integers = IntegerCodec(10)
        self.symbols = {name: sp.Symbol(name) for name in variables}
        clash = set(self.symbols) & (set(BINARY) | set(UNARY) | set(CONSTANTS) | set(self.integers.tokens))
        if clash:
            raise ValueError(f"variable names {sorted(clash)} are tokens of the codec")
        self.tokens: list[str] = [*BINARY, *UNARY, *CONSTANTS, *self.symbols, *self.integers.tokens]

    def reader(self, aliases: dict[str, str] | None = None) -> InfixReader:
        """The grammar of typed expressions over this codec's variables (plus `aliases`, typed name -> variable,
        e.g. y' -> dy), functions and constants (`e` too, unless it is a variable)."""
        variables = {**self.symbols, **{typed: self.symbols[name] for typed, name in (aliases or {}).items()}}
        constants = {**CONSTANTS, **({} if "e" in variables else {"e": sp.E})}
        return InfixReader(variables, TYPED_FUNCTIONS, constants)

    # --- sympy -> tokens -------------------------------------------------------------------------------
    def encode(self, expr: sp.Expr | se.Basic) -> list[str]:
        if not isinstance(expr, sp.Basic | se.Basic):
            raise EncodeError(f"the codec writes sympy or symengine expressions, not {type(expr).__name__}")
        out: list[str] = []
        self._encode(expr, out)
        return out

    def _encode(self, expr: sp.Basic | se.Basic, out: list[str]) -> None:
        if expr.is_Integer:
            out += self.integers.encode(int(expr))
        elif expr.is_Rational:
            out.append("div")
            out += self.integers.encode(int(expr.p)) + self.integers.encode(int(expr.q))
        elif expr.is_Symbol:
            if expr.name not in self.symbols:
                raise EncodeError(f"unknown variable {expr.name!r}; the codec knows {', '.join(self.symbols)}")
            out.append(expr.name)
        elif type(expr).__name__ in _CONSTANT_TOKENS:
            out.append(_CONSTANT_TOKENS[type(expr).__name__])
        elif expr.is_Add or expr.is_Mul:
            for arg in expr.args[:-1]:  # a + b + c -> add a add b c
                out.append("add" if expr.is_Add else "mul")
                self._encode(arg, out)
            self._encode(expr.args[-1], out)
        elif expr.is_Pow:
            base, exponent = expr.args
            if exponent.is_Rational and exponent.p == 1 and exponent.q == 2:
                out.append("sqrt")
                self._encode(base, out)
            elif type(base).__name__ == "Exp1":
                out.append("exp")
                self._encode(exponent, out)
            else:
                out.append("pow")
                self._encode(base, out)
                self._encode(exponent, out)
        elif expr.is_Function and len(expr.args) == 1:
            name = _FUNCTION_TOKENS.get(type(expr).__name__, type(expr).__name__)
            if name not in UNARY:
                raise EncodeError(f"function {type(expr).__name__} is not one the codec writes")
            out.append(name)
            self._encode(expr.args[0], out)
        else:
            raise EncodeError(f"cannot write {expr!r} ({type(expr).__name__}) in prefix tokens")

    def rebuilt(self, expr: sp.Expr | se.Basic) -> sp.Expr:
        """The sympy expression that `expr`'s tokens decode to (`EncodeError` when it has none): a pair side
        made by symengine, or rewritten, is stored as exactly what reading its tokens back gives."""
        return self.decode(self.encode(expr))

    # --- tokens -> sympy -------------------------------------------------------------------------------
    def decode(self, tokens: Sequence[str]) -> sp.Expr:
        """The expression of a token sequence; `DecodeError` for anything `encode` could not have produced."""
        tokens = list(tokens)
        try:
            expr, end = self._decode(tokens, 0)
        except DecodeError:
            raise
        except (RecursionError, ValueError, TypeError, ArithmeticError, AttributeError) as error:  # overflow too
            raise DecodeError(f"the tokens do not build an expression: {type(error).__name__}: {error}") from None
        if end != len(tokens):
            raise DecodeError(f"{len(tokens) - end} tokens left after a complete expression")
        return expr

    def _decode(self, tokens: list[str], i: int) -> tuple[sp.Expr, int]:
        if i >= len(tokens):
            raise DecodeError("the sequence ends before the expression does")
        token = tokens[i]
        if token in BINARY:
            left, i = self._decode(tokens, i + 1)
            right, i = self._decode(tokens, i)
            return BINARY[token](left, right), i
        if token in UNARY:
            arg, i = self._decode(tokens, i + 1)
            return UNARY[token](arg), i
        if token in CONSTANTS:
            return CONSTANTS[token], i + 1
        if token in self.symbols:
            return self.symbols[token], i + 1
        if token in ("+", "-"):
            end = i + 1
            while end < len(tokens) and tokens[end].isdigit() and len(tokens[end]) == 1:
                end += 1
            return sp.Integer(self.integers.decode(tokens[i:end])), end
        raise DecodeError(f"unknown or misplaced token {token!r}")
