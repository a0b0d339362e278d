"""Expressions as people type them (`x*cos(x)`, `exp(x)/(1+exp(x))`, `y'' + y = 0`), read by our own grammar.

Why not sympy's `sympify` or `parse_expr`: both hand the text to Python's `eval`, whatever globals they are
given, so `__import__('os').system(...)` runs. This reader knows numbers, the names it is given (variables,
functions of one argument, constants), `+ - * / ^ **`, parentheses and, where asked, one `=`; anything else is
refused with its position. Length, nesting, digits and exponents are bounded before sympy builds anything.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from fractions import Fraction

import sympy as sp

from lit_math.errors import shown

MAX_CHARS = 10_000
"""Longest expression read; a longer text is refused before it is tokenised."""
MAX_DEPTH = 100
"""Deepest nesting of parentheses, functions, signs and powers (the reader is recursive)."""
MAX_DIGITS = 100
"""Most digits of one number."""
MAX_EXPONENT = 1000
"""Largest integer exponent |n| of a power: (x+1)^100000 would make sympy expand for hours."""

TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<name>[A-Za-z][A-Za-z0-9_]*'*)|(?P<op>\*\*|[-+*/^()=]))"
)


SUMS = {"+": operator.add, "-": operator.sub}
PRODUCTS = {"*": operator.mul, "/": operator.truediv}


class ParseError(ValueError):
    """Text that is not an expression of the grammar; the message says where and what was expected."""


class Unsupported(ParseError):
    """Text of the grammar's form that the reader still refuses: a name it does not know (erf), or a size beyond
    its bounds. An evaluation file counts such a line as a problem the codec cannot write, not as a typo."""


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if exponent.is_Integer and abs(int(exponent)) > MAX_EXPONENT:
        raise Unsupported(f"the exponent {shown(exponent)} is larger than {MAX_EXPONENT} in absolute value")
    if base.is_Rational and exponent.is_Integer and abs(base) not in (0, 1):
        bits = max(abs(int(base.p)), abs(int(base.q))).bit_length() * abs(int(exponent))
        if bits > 10_000:
            raise Unsupported(f"{shown(base)}^{shown(exponent)} is a number of about {bits} bits, too large")
    return sp.Pow(base, exponent)


class InfixReader:
    """A grammar over given names: `variables` (name -> symbol; names may end in primes, as `y'`), `functions`
    of one argument (name -> sympy function) and `constants` (name -> value)."""

    def __init__(
        self,
        variables: Mapping[str, sp.Expr],
        functions: Mapping[str, Callable[[sp.Expr], sp.Expr]],
        constants: Mapping[str, sp.Expr],
    ) -> None:
        self.variables, self.functions, self.constants = dict(variables), dict(functions), dict(constants)

    def known(self) -> str:
        parts = [f"variables {', '.join(self.variables)}"]
        if self.constants:
            parts.append(f"constants {', '.join(self.constants)}")
        if self.functions:
            parts.append(f"functions {', '.join(self.functions)}")
        return "; ".join(parts)

    def read(self, text: str, equation: bool = False) -> sp.Expr:
        """The expression of `text` (an equation `lhs = rhs` reads as lhs - rhs when `equation`)."""
        if not isinstance(text, str):
            raise ParseError(f"an expression is text, got {type(text).__name__}")
        if len(text) > MAX_CHARS:
            raise Unsupported(f"the expression is {len(text):,} characters long; at most {MAX_CHARS:,} are read")
        self.tokens = self._tokenise(text)
        self.at, self.text = 0, text
        left = self._sum(0)
        if equation and self._peek() == "=":
            self.at += 1
            left = left - self._sum(0)
        if self.at < len(self.tokens):
            token, where = self.tokens[self.at]
            if token == "=":
                allowed = "one equation, lhs = rhs" if equation else "an expression, not an equation"
                raise ParseError(f"unexpected '=' at character {where + 1}: the problem is {allowed}")
            raise ParseError(
                f"unexpected {shown(token)} at character {where + 1}: expected an operator (2*x, not 2x) or the end"
            )
        return left

    def _tokenise(self, text: str) -> list[tuple[str, int]]:
        tokens, at = [], 0
        while at < len(text):
            match = TOKEN.match(text, at)
            if match is None:
                if text[at:].strip() == "":
                    break
                bad = text[at:].lstrip()[0]
                where = len(text) - len(text[at:].lstrip())
                raise ParseError(
                    f"{shown(bad)} at character {where + 1} is not part of the grammar (numbers, names, "
                    "+ - * / ^ ** and parentheses)"
                )
            token = match.group("number") or match.group("name") or match.group("op")
            tokens.append((token, match.start(match.lastindex)))
            at = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def _expect(self, wanted: str) -> None:
        if self._peek() != wanted:
            raise self._unexpected(f"{wanted!r}")
        self.at += 1

    def _unexpected(self, expected: str) -> ParseError:
        if self.at >= len(self.tokens):
            return ParseError(f"the expression ends early: expected {expected}")
        token, where = self.tokens[self.at]
        return ParseError(f"unexpected {shown(token)} at character {where + 1}: expected {expected}")

    def _deeper(self, depth: int) -> int:
        if depth >= MAX_DEPTH:
            raise Unsupported(f"the expression nests deeper than {MAX_DEPTH} levels")
        return depth + 1

    def _sum(self, depth: int) -> sp.Expr:
        return self._chain(SUMS, self._product, depth)

    def _product(self, depth: int) -> sp.Expr:
        return self._chain(PRODUCTS, self._signed, depth)

    def _chain(
        self, ops: Mapping[str, Callable[[sp.Expr, sp.Expr], sp.Expr]], operand: Callable[[int], sp.Expr], depth: int
    ) -> sp.Expr:
        """operand (op operand)*, left-associative: 1 - 2 - 3 is (1 - 2) - 3."""
        value = operand(depth)
        while self._peek() in ops:
            op = ops[self._peek()]
            self.at += 1
            value = op(value, operand(depth))
        return value

    def _signed(self, depth: int) -> sp.Expr:
        if self._peek() in ("+", "-"):
            op = self._peek()
            self.at += 1
            value = self._signed(self._deeper(depth))
            return -value if op == "-" else value
        return self._power(depth)

    def _power(self, depth: int) -> sp.Expr:
        base = self._atom(depth)
        if self._peek() in ("^", "**"):
            self.at += 1
            return _power(base, self._signed(self._deeper(depth)))  # right-associative: 2^3^2 is 2^9
        return base

    def _atom(self, depth: int) -> sp.Expr:
        token = self._peek()
        if token is None:
            raise self._unexpected("a number, a name or '('")
        if token == "(":
            self.at += 1
            value = self._sum(self._deeper(depth))
            self._expect(")")
            return value
        if token[0].isdigit() or token[0] == ".":
            self.at += 1
            return self._number(token)
        if token[0].isalpha():
            self.at += 1
            if token in self.functions:
                self._expect("(")
                argument = self._sum(self._deeper(depth))
                self._expect(")")
                return self.functions[token](argument)
            if token in self.variables:
                return self.variables[token]
            if token in self.constants:
                return self.constants[token]
            where = self.tokens[self.at - 1][1]
            raise Unsupported(f"unknown name {shown(token)} at character {where + 1}; known: {self.known()}")
        raise self._unexpected("a number, a name or '('")

    def _number(self, token: str) -> sp.Expr:
        if sum(c.isdigit() for c in token) > MAX_DIGITS:
            raise Unsupported(f"a number of {len(token)} characters; at most {MAX_DIGITS} digits are read")
        value = Fraction(token)  # exact: 0.1 is 1/10
        return sp.Rational(value.numerator, value.denominator)
