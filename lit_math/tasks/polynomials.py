"""Polynomials with integer coefficients: their derivative (exact, prefix notation) or their real roots.

A polynomial is written in prefix notation, as the symbolic families write expressions (`add`, `mul`, `pow`,
`x`, integers as a sign then digits): terms from the highest degree down, `c x^k` as `mul c pow x k`. A
derivative is right when it *is* the derivative, in any arrangement the reader understands (terms in any
order, `sub`, nested sums and products). Real roots are sorted from the largest, written as floats after a
count token `V<k>`, and scored by relative L1 error under a tolerance, like the linear-algebra answers. Each
operation is one `Operation` record of `OPERATIONS`: adding an operation is adding a record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import IntegerCodec, Vocabulary
from lit_math.encoding.floats import FloatCodec
from lit_math.errors import ConfigError, check_choice, check_int, shown
from lit_math.tasks.base import Problems, Task, padded_rows, relative_l1, row_keys

OPERATORS = ("add", "sub", "mul", "pow", "x")
MAX_RESAMPLING_ROUNDS = 100
SEPARATION = 1e-3
"""Roots closer than this (relative) to each other or to the real line are ambiguous at three digits: such
polynomials (double roots, nearly real pairs) are drawn again."""


def derivative(coefficients: np.ndarray) -> np.ndarray:
    """Coefficients (index = power) of the derivatives, same width (the top one becomes 0)."""
    powers = np.arange(1, coefficients.shape[1])
    out = np.zeros_like(coefficients)
    out[:, :-1] = coefficients[:, 1:] * powers
    return out


def real_roots(coefficients: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Each polynomial's real roots, largest first, and whether they are well separated (see SEPARATION)."""
    roots, separated = [], np.ones(len(coefficients), dtype=bool)
    for i, row in enumerate(coefficients):
        top = int(np.flatnonzero(row)[-1])
        found = np.roots(row[: top + 1][::-1].astype(np.float64)) if top else np.empty(0)
        scale = np.maximum(1.0, np.abs(found))
        real = np.abs(found.imag) <= 1e-9 * scale
        near = ~real & (np.abs(found.imag) < SEPARATION * scale)
        values = np.sort(found[real].real)[::-1]
        gaps = -np.diff(values) < SEPARATION * np.maximum(1.0, np.abs(values[1:]))
        separated[i] = not near.any() and not gaps.any()
        roots.append(values)
    return roots, separated


def written(polynomial: dict[int, int]) -> str:
    """{power: c} as people write it: `3*x^2 - x + 1`."""
    text = ""
    for k, c in sorted(polynomial.items(), reverse=True):
        power = "" if k == 0 else "x" if k == 1 else f"x^{k}"
        magnitude = str(abs(c)) if k == 0 or abs(c) != 1 else ""
        term = f"{magnitude}*{power}" if magnitude and power else magnitude or power
        text += (" - " if c < 0 else " + ") + term if text else ("-" if c < 0 else "") + term
    return text or "0"


@dataclass(frozen=True)
class Operation:
    """One operation on polynomials: its reference answer, how that is written and read back, how it is judged."""

    name: str
    truth: Callable[[Problems, int], np.ndarray]
    """The reference answer of problem `i`: coefficients (index = power) or roots, largest first."""
    write: Callable[[PolynomialTask, np.ndarray], list[str]]
    """The tokens of a reference answer."""
    read: Callable[[PolynomialTask, Sequence[str]], Any]
    """What the words of an answer read as, None when they are not one (a malformed answer)."""
    judge: Callable[[PolynomialTask, Any, np.ndarray], tuple[bool, dict[str, bool]]]
    """(task, a read answer, the reference) -> right, and the outcome kinds besides `malformed`."""
    shown: Callable[[Any], str]
    """A read answer as people write it."""
    answer_length: Callable[[PolynomialTask, int], int]
    """Longest answer in tokens, given the longest written term."""
    classes_are: str
    """What `classes` returns, in words."""
    classes: Callable[[Problems], np.ndarray]
    """The class of each problem (per-class metrics)."""
    extra_tokens: Callable[[PolynomialTask], list[str]] = lambda task: []
    """Tokens of the answers besides those of polynomials."""
    outcome_kinds: tuple[str, ...] = ("malformed",)
    """What `judge` reports besides correctness."""
    roots: bool = False
    """The answer is the real roots: solved once when sampling and kept with the problems (`roots`), and
    polynomials with ambiguous roots are drawn again."""


def _derivative_truth(problems: Problems, i: int) -> np.ndarray:
    return derivative(problems["coefficients"][i : i + 1])[0]


def _degrees(problems: Problems) -> np.ndarray:
    rows = problems["coefficients"]
    return (rows.shape[1] - 1 - np.argmax(rows[:, ::-1] != 0, axis=1)).astype(np.int64)


def _roots_truth(problems: Problems, i: int) -> np.ndarray:
    roots = problems["roots"][i]
    return roots[~np.isnan(roots)]


def _roots_judge(task: PolynomialTask, read: np.ndarray, truth: np.ndarray) -> tuple[bool, dict[str, bool]]:
    """Right when the count is, and the roots, sorted, are within the tolerance (relative L1)."""
    count_right = len(read) == len(truth)
    error = relative_l1(np.sort(read)[::-1][None, :], truth[None, :])[0] if count_right else np.inf
    return bool(error <= task.tolerance), {"root_count_right": count_right}


DERIVATIVE = Operation(
    "derivative",
    truth=_derivative_truth,
    write=lambda task, truth: task.polynomial_tokens(truth),
    read=lambda task, tokens: task.read_polynomial(tokens),
    judge=lambda task, read, truth: (read == {k: int(c) for k, c in enumerate(truth) if c}, {}),
    shown=written,
    answer_length=lambda task, term: (task.degree + 1) * (term + 1),
    classes_are="degree of the polynomial",
    classes=_degrees,
)
ROOTS = Operation(
    "roots",
    truth=_roots_truth,
    write=lambda task, truth: [f"V{len(truth)}", *(t for value in truth for t in task.floats.encode(float(value)))],
    read=lambda task, tokens: task.read_roots(tokens),
    judge=_roots_judge,
    shown=lambda roots: ", ".join(f"{r:.4g}" for r in roots) or "no real root",
    answer_length=lambda task, term: 1 + task.degree * task.floats.per_number,
    classes_are="number of real roots",
    classes=lambda problems: (~np.isnan(problems["roots"])).sum(axis=1).astype(np.int64),
    extra_tokens=lambda task: [*(f"V{k}" for k in range(task.degree + 1)), *task.floats.tokens],
    outcome_kinds=("malformed", "root_count_right"),
    roots=True,
)
OPERATIONS: dict[str, Operation] = {op.name: op for op in (DERIVATIVE, ROOTS)}
"""Every operation by name."""


@dataclass(frozen=True)
class PolynomialTask(Task):
    """`operation` on polynomials of degree min_degree..degree with integer coefficients in
    -max_coefficient..max_coefficient (the leading one not zero)."""

    family: ClassVar[str] = "polynomials"
    operation: str = "derivative"
    """``derivative`` (exact, in prefix notation) or ``roots`` (the real roots, largest first, as floats; scored
    by relative L1 error under ``tolerance``)."""
    degree: int = 5
    """Largest degree."""
    min_degree: int = 1
    """Smallest degree (degrees are uniform in min_degree..degree)."""
    max_coefficient: int = 10
    """Coefficients are uniform in -max_coefficient..max_coefficient (leading one not 0)."""
    encoding: str = "P1000"
    """Float encoding of the roots: ``P10``, ``P1000``, ``B1999`` or ``FP15``."""
    tolerance: float = 0.01
    """Relative L1 error under which roots are right."""

    def __post_init__(self) -> None:
        check_choice("operation", self.operation, tuple(OPERATIONS))
        check_int("degree", self.degree, 1, 30)
        check_int(f"min_degree (at most degree={self.degree})", self.min_degree, 1, self.degree)
        check_int("max_coefficient", self.max_coefficient, 1, 10**6)
        if not 0 < self.tolerance < 1:
            raise ConfigError(f"tolerance must be in (0, 1), got {self.tolerance}")
        self.floats  # noqa: B018 (validates the encoding)

    @property
    def spec(self) -> Operation:
        """The record of this task's operation."""
        return OPERATIONS[self.operation]

    @functools.cached_property
    def integers(self) -> IntegerCodec:
        return IntegerCodec(10)

    @functools.cached_property
    def floats(self) -> FloatCodec:
        return FloatCodec(self.encoding, 20)

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:  # type: ignore[override]
        return Vocabulary(dict.fromkeys([*OPERATORS, *self.integers.tokens, *self.spec.extra_tokens(self)]))

    @functools.cached_property
    def ids(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self.vocabulary.tokens)}

    @functools.cached_property
    def longest_term(self) -> int:
        """Tokens of the longest written term, `mul c pow x k`."""
        return 4 + 2 * (self.integers.n_digits(self.max_coefficient * self.degree) + 1)

    @property
    def max_source_len(self) -> int:  # type: ignore[override]
        return (self.degree + 1) * (self.longest_term + 1) + 1

    @property
    def max_target_len(self) -> int:  # type: ignore[override]
        return self.spec.answer_length(self, self.longest_term) + 2

    # --- sampling ------------------------------------------------------------------------------------
    rejection_kinds: ClassVar[tuple[str, ...]] = ("ambiguous_roots",)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        c = self.max_coefficient
        coefficients = rng.integers(-c, c + 1, (n, self.degree + 1), dtype=np.int64)
        degrees = rng.integers(self.min_degree, self.degree + 1, n)
        coefficients[np.arange(self.degree + 1)[None, :] > degrees[:, None]] = 0
        leading = rng.integers(1, c + 1, n) * rng.choice([-1, 1], n)
        coefficients[np.arange(n), degrees] = leading
        return coefficients

    def packed_roots(self, coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's real roots, largest first, NaN-padded to `degree` columns (kept with the problems, so
        encoding and scoring never solve again), and whether they are well separated."""
        roots, separated = real_roots(coefficients)
        packed = np.full((len(coefficients), self.degree), np.nan)
        for i, values in enumerate(roots):
            packed[i, : len(values)] = values
        return packed, separated

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        coefficients = self._draw(rng, n)
        rejected = np.zeros((n, 1), dtype=np.int32)
        if not self.spec.roots:
            return {"coefficients": coefficients, "rejected": rejected}
        roots, separated = self.packed_roots(coefficients)
        for _ in range(MAX_RESAMPLING_ROUNDS):
            bad = np.flatnonzero(~separated)
            if not len(bad):
                return {"coefficients": coefficients, "roots": roots, "rejected": rejected}
            rejected[bad] += 1
            coefficients[bad] = self._draw(rng, len(bad))
            roots[bad], separated[bad] = self.packed_roots(coefficients[bad])
        raise ConfigError(f"after {MAX_RESAMPLING_ROUNDS} rounds, polynomials still have ambiguous roots")

    def keys(self, problems: Problems) -> np.ndarray:
        return row_keys(problems["coefficients"])

    @property
    def problem_space(self) -> int:  # type: ignore[override]
        values = 2 * self.max_coefficient + 1
        return sum(2 * self.max_coefficient * values**d for d in range(self.min_degree, self.degree + 1))

    # --- writing -------------------------------------------------------------------------------------
    def _integer(self, value: int) -> list[str]:
        return self.integers.encode(value)

    def polynomial_tokens(self, row: np.ndarray) -> list[str]:
        """Prefix notation, highest degree first: `add t_n add t_(n-1) ... t_0` (zero terms left out)."""
        terms = []
        for k in np.flatnonzero(row)[::-1].tolist():
            c = int(row[k])
            power = [] if k == 0 else ["x"] if k == 1 else ["pow", "x", *self._integer(k)]
            terms.append(self._integer(c) if k == 0 else power if c == 1 else ["mul", *self._integer(c), *power])
        if not terms:
            return self._integer(0)
        return [token for i, term in enumerate(terms) for token in ([*(["add"] if i < len(terms) - 1 else []), *term])]

    def answer_tokens(self, problems: Problems, i: int) -> list[str]:
        """The reference answer of problem `i`."""
        return self.spec.write(self, self.spec.truth(problems, i))

    def _ids(self, rows: list[list[str]], begin: bool) -> np.ndarray:
        ids = [[Vocabulary.bos_id] * begin + [self.ids[t] for t in row] + [Vocabulary.eos_id] for row in rows]
        return padded_rows(ids)

    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        rows = problems["coefficients"]
        source = self._ids([self.polynomial_tokens(row) for row in rows], begin=False)
        return source, self._ids([self.answer_tokens(problems, i) for i in range(len(rows))], begin=True)

    # --- reading and scoring -------------------------------------------------------------------------
    def _tokens(self, hypothesis: np.ndarray) -> list[str] | None:
        """The words before EOS (unknown ids read as `<unk:i>`, which no reader accepts); None without EOS."""
        if Vocabulary.eos_id not in hypothesis.tolist():
            return None
        return self.vocabulary.words(hypothesis)

    def read_polynomial(self, tokens: Sequence[str]) -> dict[int, int] | None:
        """Coefficients {power: c} of a prefix expression of add, sub, mul, pow (integer exponents), x and
        integers; None when it is not one (a malformed answer)."""
        position = 0

        def integer() -> int:
            nonlocal position
            end = position + 1
            while end < len(tokens) and tokens[end].isdigit():
                end += 1
            value = self.integers.decode(tokens[position:end])
            position = end
            return value

        def expression(depth: int = 0) -> dict[int, int]:
            nonlocal position
            if position >= len(tokens) or depth > 200:
                raise ValueError("cut short")
            token = tokens[position]
            if token in ("+", "-"):
                return {0: integer()}
            position += 1
            if token == "x":
                return {1: 1}
            if token not in ("add", "sub", "mul", "pow"):
                raise ValueError(f"unexpected {token}")
            left, right = expression(depth + 1), expression(depth + 1)
            if token == "pow":
                exponent = right.get(0, 0) if set(right) <= {0} else -1
                if not 0 <= exponent <= 4 * self.degree:
                    raise ValueError("not a small natural exponent")
                out = {0: 1}
                for _ in range(exponent):
                    out = product(out, left)
                return out
            if token == "mul":
                return product(left, right)
            sign = -1 if token == "sub" else 1
            out = dict(left)
            for k, c in right.items():
                out[k] = out.get(k, 0) + sign * c
            return out

        def product(a: dict[int, int], b: dict[int, int]) -> dict[int, int]:
            if max(a, default=0) + max(b, default=0) > 4 * self.degree:  # nested powers: refuse, do not expand
                raise ValueError("degree far above the problem's")
            out: dict[int, int] = {}
            for i, p in a.items():
                for j, q in b.items():
                    out[i + j] = out.get(i + j, 0) + p * q
            return out

        try:
            polynomial = expression()
        except (ValueError, IndexError):
            return None
        if position != len(tokens):
            return None
        return {k: c for k, c in polynomial.items() if c}

    def read_roots(self, tokens: Sequence[str]) -> np.ndarray | None:
        """The roots written after a count token `V<k>`; None when the words are not that."""
        if not tokens or not tokens[0].startswith("V") or not tokens[0][1:].isdigit():
            return None
        roots, at = [], 1
        try:
            for _ in range(int(tokens[0][1:])):
                root, at = self.floats.read(tokens, at)
                roots.append(root)
        except ValueError:
            return None
        return np.array(roots) if at == len(tokens) else None

    def decode(self, hypotheses: np.ndarray) -> tuple[list[Any], np.ndarray]:
        """What each hypothesis reads as (a derivative: {power: c}; roots: an array), None when malformed."""
        tokens = [self._tokens(hypothesis) for hypothesis in hypotheses]
        values = [None if words is None else self.spec.read(self, words) for words in tokens]
        return values, np.array([value is not None for value in values], dtype=bool)

    @property
    def outcome_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.spec.outcome_kinds

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        values, valid = self.decode(hypotheses)
        if len(values) != len(problems["coefficients"]):
            raise ValueError(f"{len(values)} hypotheses for {len(problems['coefficients'])} problems")
        correct = np.zeros(len(values), dtype=bool)
        kinds = {kind: np.zeros(len(values), dtype=bool) for kind in self.outcome_kinds}
        for i, value in enumerate(values):
            if value is not None:
                correct[i], outcomes = self.spec.judge(self, value, self.spec.truth(problems, i))
                for kind, outcome in outcomes.items():
                    kinds[kind][i] = outcome
        kinds["malformed"] = ~valid
        return correct, kinds

    @property
    def classes_are(self) -> str:  # type: ignore[override]
        return self.spec.classes_are

    def classes(self, problems: Problems) -> np.ndarray:
        return self.spec.classes(problems)

    # --- people --------------------------------------------------------------------------------------
    def parse_problem(self, args: Sequence[str]) -> Problems:
        """A polynomial in x as people write it (`x^2 - x - 1`, `3*x**3 + 2`), read by our grammar."""
        import sympy as sp

        from lit_math.encoding.infix import InfixReader, ParseError
        from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit

        text, x = " ".join(args), sp.Symbol("x")
        try:
            with time_limit(5.0):  # (x + 1)^1000 expands
                polynomial = sp.Poly(InfixReader({"x": x}, {}, {}).read(text), x)
        except (ParseError, sp.PolynomialError, TimeLimitExceeded) as error:
            raise ConfigError(f"{shown(text)} is not a polynomial in x: {error}") from None
        coefficients = polynomial.all_coeffs()[::-1]
        if not all(c.is_integer for c in coefficients):
            raise ConfigError(f"{shown(text)}: the coefficients must be integers")
        degree = polynomial.degree()
        if not self.min_degree <= degree <= self.degree:
            raise ConfigError(f"{shown(text)} has degree {degree}; this model knows {self.min_degree}..{self.degree}")
        if max(abs(int(c)) for c in coefficients) > self.max_coefficient:
            raise ConfigError(
                f"{shown(text)}: coefficients must lie in -{self.max_coefficient}..{self.max_coefficient}"
            )
        row = np.zeros((1, self.degree + 1), dtype=np.int64)
        row[0, : degree + 1] = [int(c) for c in coefficients]
        problem = {"coefficients": row}
        if self.spec.roots:
            problem["roots"] = self.packed_roots(row)[0]
        return problem

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        return ["(malformed)" if value is None else self.spec.shown(value) for value in self.decode(hypotheses)[0]]

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        return [{"coefficients": row.tolist()} for row in problems["coefficients"]]
