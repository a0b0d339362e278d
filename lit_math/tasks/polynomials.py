"""Polynomials with integer coefficients: their derivative (exact, prefix notation) or their real roots.

A polynomial is written in prefix notation, as the symbolic families write expressions (`add`, `mul`, `pow`,
`x`, integers as a sign then digits): terms from the highest degree down, `c x^k` as `mul c pow x k`. A
derivative is right when it *is* the derivative, in any arrangement the reader understands (terms in any
order, `sub`, nested sums and products). Real roots are sorted from the largest, written as floats after a
count token `V<k>`, and scored by relative L1 error under a tolerance, like the linear-algebra answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import IntegerCodec, Vocabulary
from lit_math.encoding.floats import FloatCodec
from lit_math.errors import ConfigError, check_choice, check_int, shown
from lit_math.tasks.base import Problems, Task, row_keys

OPERATIONS = ("derivative", "roots")
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
class PolynomialTask(Task):
    """`operation` on polynomials of degree min_degree..degree with integer coefficients in
    -max_coefficient..max_coefficient (the leading one not zero)."""

    family: ClassVar[str] = "polynomials"
    operation: str = "derivative"
    degree: int = 5
    min_degree: int = 1
    max_coefficient: int = 10
    encoding: str = "P1000"
    """Float encoding of the roots."""
    tolerance: float = 0.01
    """Relative L1 error under which roots are right."""

    def __post_init__(self) -> None:
        check_choice("operation", self.operation, OPERATIONS)
        check_int("degree", self.degree, 1, 30)
        check_int(f"min_degree (at most degree={self.degree})", self.min_degree, 1, self.degree)
        check_int("max_coefficient", self.max_coefficient, 1, 10**6)
        if not 0 < self.tolerance < 1:
            raise ConfigError(f"tolerance must be in (0, 1), got {self.tolerance}")
        integers, floats = IntegerCodec(10), FloatCodec(self.encoding, 20)
        counts = [f"V{k}" for k in range(self.degree + 1)]
        extra = [*counts, *floats.tokens] if self.operation == "roots" else []
        vocabulary = Vocabulary(dict.fromkeys([*OPERATORS, *integers.tokens, *extra]))
        object.__setattr__(self, "integers", integers)
        object.__setattr__(self, "floats", floats)
        object.__setattr__(self, "vocabulary", vocabulary)
        object.__setattr__(self, "ids", {token: i for i, token in enumerate(vocabulary.tokens)})
        term = 4 + 2 * (integers.n_digits(self.max_coefficient * self.degree) + 1)  # mul c pow x k
        object.__setattr__(self, "max_source_len", (self.degree + 1) * (term + 1) + 1)
        answer = (
            (self.degree + 1) * (term + 1) if self.operation == "derivative" else 1 + self.degree * floats.per_number
        )
        object.__setattr__(self, "max_target_len", answer + 2)

    def config(self) -> dict[str, Any]:
        return {"family": self.family, **asdict(self)}

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
        if self.operation == "derivative":
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
        if self.operation == "derivative":
            return self.polynomial_tokens(derivative(problems["coefficients"][i : i + 1])[0])
        roots = self.roots_of(problems, i)
        numbers = [t for value in roots for t in self.floats.encode(float(value))]
        return [f"V{len(roots)}", *numbers]

    @staticmethod
    def roots_of(problems: Problems, i: int) -> np.ndarray:
        roots = problems["roots"][i]
        return roots[~np.isnan(roots)]

    def _ids(self, rows: list[list[str]], begin: bool) -> np.ndarray:
        width = max(len(r) for r in rows) + 1 + begin
        out = np.full((len(rows), width), Vocabulary.pad_id, dtype=np.int64)
        for i, row in enumerate(rows):
            ids = [Vocabulary.bos_id] * begin + [self.ids[t] for t in row] + [Vocabulary.eos_id]
            out[i, : len(ids)] = ids
        return out

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

    @property
    def outcome_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("malformed",) if self.operation == "derivative" else ("malformed", "root_count_right")

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = len(hypotheses)
        correct, malformed, count_right = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        for i, (row, hypothesis) in enumerate(zip(problems["coefficients"], hypotheses, strict=True)):
            tokens = self._tokens(hypothesis)
            if self.operation == "derivative":
                read = None if tokens is None else self.read_polynomial(tokens)
                truth = derivative(row[None, :])[0]
                correct[i] = read is not None and read == {k: int(c) for k, c in enumerate(truth) if c}
            else:
                read = None if tokens is None else self.read_roots(tokens)
                truth = self.roots_of(problems, i)
                count_right[i] = read is not None and len(read) == len(truth)
                if count_right[i]:
                    scale = max(np.abs(truth).sum(), 1e-12)
                    correct[i] = len(truth) == 0 or np.abs(np.sort(read)[::-1] - truth).sum() / scale <= self.tolerance
            malformed[i] = read is None
        kinds = {"malformed": malformed}
        if self.operation == "roots":
            kinds["root_count_right"] = count_right
        return correct, kinds

    def score(self, problems: Problems, hypotheses: np.ndarray) -> np.ndarray:
        return self.judge(problems, hypotheses)[0]

    @property
    def classes_are(self) -> str:  # type: ignore[override]
        return "degree of the polynomial" if self.operation == "derivative" else "number of real roots"

    def classes(self, problems: Problems) -> np.ndarray:
        rows = problems["coefficients"]
        if self.operation == "derivative":
            return (rows.shape[1] - 1 - np.argmax(rows[:, ::-1] != 0, axis=1)).astype(np.int64)
        return (~np.isnan(problems["roots"])).sum(axis=1).astype(np.int64)

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
        if self.operation == "roots":
            problem["roots"] = self.packed_roots(row)[0]
        return problem

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        out = []
        for hypothesis in hypotheses:
            tokens = self._tokens(hypothesis)
            if self.operation == "derivative":
                read = None if tokens is None else self.read_polynomial(tokens)
                out.append("(malformed)" if read is None else written(read))
            else:
                roots = None if tokens is None else self.read_roots(tokens)
                out.append("(malformed)" if roots is None else ", ".join(f"{r:.4g}" for r in roots) or "no real root")
        return out

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        return [{"coefficients": row.tolist()} for row in problems["coefficients"]]
