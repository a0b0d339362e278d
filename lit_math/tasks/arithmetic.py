"""Integer arithmetic in any base (Int2Int's problems): sums, products, residues, fractions, determinants.

Problems are integer operands (a row of `operands`), written as in the GCD family, a sign token then digits,
so the signs separate them; answers are one integer, or two (numerator, denominator in lowest terms with a
positive denominator) for fractions. Everything is exact int64 arithmetic: operands are at most 2^31 - 1 in
magnitude, so that products and sums of products fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import IntegerCodec, Vocabulary
from lit_math.encoding.sequences import unpack_integer_rows
from lit_math.errors import ConfigError, ascii_int, check_choice, check_int, shown
from lit_math.tasks.base import Problems, Task, row_keys

MAX_OPERAND = 2**31 - 1
OPERATIONS: dict[str, tuple[int, int]] = {
    "add": (2, 1),
    "sub": (2, 1),
    "mul": (2, 1),
    "mod_add": (2, 1),
    "mod_mul": (2, 1),
    "frac_compare": (4, 1),
    "frac_add": (4, 2),
    "frac_mul": (4, 2),
    "frac_simplify": (2, 2),
    "frac_round": (2, 1),
    "determinant": (4, 1),
}
"""Operation -> (operands, integers in the answer)."""
MODULAR = ("mod_add", "mod_mul")
FRACTIONS = ("frac_compare", "frac_add", "frac_mul", "frac_simplify", "frac_round")
OPERAND_LAWS = ("uniform", "log_uniform")


def _reduced(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """(p, q) in lowest terms, q > 0 (denominators here are positive)."""
    g = np.gcd(numerator, denominator)
    return np.stack([numerator // g, denominator // g], axis=1)


@dataclass(frozen=True)
class ArithmeticTask(Task):
    """One operation on integers in `base`; operands in min_int..max_int (residues 0..modulus-1 for the
    modular operations, denominators at least 1)."""

    family: ClassVar[str] = "arithmetic"
    operation: str = "add"
    base: int = 10
    min_int: int = 0
    max_int: int = 999
    operands: str = "uniform"
    """``uniform`` on the range, or ``log_uniform`` (every order of magnitude as likely; needs min_int >= 1)."""
    modulus: int | None = None

    def __post_init__(self) -> None:
        check_choice("operation", self.operation, tuple(OPERATIONS))
        check_choice("operands", self.operands, OPERAND_LAWS)
        check_int("max_int", self.max_int, 1 if self.operation in FRACTIONS else 0, MAX_OPERAND)
        check_int(f"min_int (at most max_int={self.max_int})", self.min_int, -MAX_OPERAND, self.max_int)
        if self.operands == "log_uniform" and self.min_int < 1:
            raise ConfigError(f"log_uniform operands need min_int >= 1, got min_int={self.min_int}")
        if (self.operation in MODULAR) != (self.modulus is not None):
            raise ConfigError(
                f"modulus is for {' and '.join(MODULAR)} only, and they need one; "
                f"got operation={self.operation}, modulus={self.modulus}"
            )
        if self.modulus is not None:
            check_int("modulus", self.modulus, 2, MAX_OPERAND)
        codec = IntegerCodec(self.base)
        vocabulary = Vocabulary(codec.tokens)
        k, m = OPERATIONS[self.operation]
        operand_digits = codec.n_digits(self._largest_operand())
        answer_digits = codec.n_digits(self._largest_answer())
        object.__setattr__(self, "codec", codec)
        object.__setattr__(self, "vocabulary", vocabulary)
        object.__setattr__(self, "offset", vocabulary.ids(["+"])[0])
        object.__setattr__(self, "operand_digits", operand_digits)
        object.__setattr__(self, "answer_digits", answer_digits)
        object.__setattr__(self, "max_source_len", k * (operand_digits + 1) + 1)
        object.__setattr__(self, "max_target_len", m * (answer_digits + 1) + 2)

    def config(self) -> dict[str, Any]:
        return {"family": self.family, **asdict(self)}

    def _largest_operand(self) -> int:
        return self.modulus - 1 if self.modulus else max(abs(self.min_int), abs(self.max_int))

    def _largest_answer(self) -> int:
        m = self._largest_operand()
        return {
            "add": 2 * m,
            "sub": 2 * m,
            "mul": m * m,
            "determinant": 2 * m * m,
            "frac_add": 2 * m * m,
            "frac_mul": m * m,
            "frac_compare": 1,
        }.get(self.operation, m)

    # --- sampling ------------------------------------------------------------------------------------
    def _draw(self, rng: np.random.Generator, shape: tuple[int, ...], low: int) -> np.ndarray:
        high = self.max_int
        if self.operands == "uniform":
            return rng.integers(low, high + 1, shape, dtype=np.int64)
        values = np.exp(rng.uniform(np.log(low), np.log(high + 1), shape))
        return np.clip(np.floor(values), low, high).astype(np.int64)

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        k = OPERATIONS[self.operation][0]
        if self.modulus is not None:
            return {"operands": rng.integers(0, self.modulus, (n, k), dtype=np.int64)}
        operands = self._draw(rng, (n, k), self.min_int)
        if self.operation in FRACTIONS:  # a/b (c/d): denominators in max(1, min_int)..max_int
            operands[:, 1::2] = self._draw(rng, (n, k // 2), max(1, self.min_int))
        return {"operands": operands}

    @property
    def problem_space(self) -> int:  # type: ignore[override]
        """Ordered operand tuples (exact: small moduli and ranges are where repetition is unavoidable)."""
        k = OPERATIONS[self.operation][0]
        if self.modulus is not None:
            return self.modulus**k
        span = self.max_int - self.min_int + 1
        if self.operation in FRACTIONS:
            return (span * (self.max_int - max(1, self.min_int) + 1)) ** (k // 2)
        return span**k

    def keys(self, problems: Problems) -> np.ndarray:
        return row_keys(problems["operands"])

    # --- answers -------------------------------------------------------------------------------------
    def answers(self, problems: Problems) -> np.ndarray:
        """The exact answer of each problem: (N, 1) integers, or (N, 2) for fractions (p, q), q > 0."""
        x = problems["operands"]
        a, b = x[:, 0], x[:, 1]
        op = self.operation
        if op in ("frac_compare", "frac_add", "frac_mul", "determinant"):
            c, d = x[:, 2], x[:, 3]
        if op == "frac_add":
            return _reduced(a * d + c * b, b * d)
        if op == "frac_mul":
            return _reduced(a * c, b * d)
        if op == "frac_simplify":
            return _reduced(a, b)
        single = {
            "add": lambda: a + b,
            "sub": lambda: a - b,
            "mul": lambda: a * b,
            "mod_add": lambda: (a + b) % self.modulus,
            "mod_mul": lambda: (a * b) % self.modulus,
            "frac_compare": lambda: np.sign(a * d - c * b),
            "frac_round": lambda: (2 * a + b) // (2 * b),  # nearest integer, halves rounded up
            "determinant": lambda: a * d - b * c,
        }[op]()
        return single[:, None]

    # --- encoding and scoring ------------------------------------------------------------------------
    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        operands, answers = problems["operands"], self.answers(problems)
        eos, pad = Vocabulary.eos_id, Vocabulary.pad_id
        source = self.codec.digit_table(operands.T, self.operand_digits, self.offset)
        target = self.codec.digit_table(answers.T, self.answer_digits, self.offset)
        pieces, answer_pieces = list(range(operands.shape[1])), list(range(answers.shape[1]))
        return (
            source.rows(pieces, end=eos, pad=pad)[0],
            target.rows(answer_pieces, end=eos, pad=pad, begin=Vocabulary.bos_id)[0],
        )

    def read(self, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integers each hypothesis (generated ids, no BOS) reads as, and whether it is well formed."""
        return unpack_integer_rows(hypotheses, self.offset, self.codec, OPERATIONS[self.operation][1])

    @property
    def outcome_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        fraction = OPERATIONS[self.operation][1] == 2
        return ("malformed", "same_value") if fraction else ("malformed",)

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        values, valid = self.read(hypotheses)
        truth = self.answers(problems)
        correct = valid & (values == truth).all(axis=1)
        kinds = {"malformed": ~valid}
        if truth.shape[1] == 2:  # a fraction of the right value, not in lowest terms (or with a negative q)
            p, q = values[:, 0], values[:, 1]
            g = np.maximum(np.gcd(p, q), 1) * np.where(q < 0, -1, 1)  # the hypothesis in lowest terms, q > 0
            kinds["same_value"] = valid & (q != 0) & (p // g == truth[:, 0]) & (q // g == truth[:, 1])
        return correct, kinds

    def score(self, problems: Problems, hypotheses: np.ndarray) -> np.ndarray:
        return self.judge(problems, hypotheses)[0]

    @property
    def classes_are(self) -> str:  # type: ignore[override]
        if self.modulus is not None:
            return "residue of the answer"
        if self.operation == "frac_compare":
            return "comparison (0: <, 1: =, 2: >)"
        return f"base-{self.base} digits of the answer('s numerator)"

    def classes(self, problems: Problems) -> np.ndarray:
        first = self.answers(problems)[:, 0]
        if self.modulus is not None:
            return first
        if self.operation == "frac_compare":
            return first + 1
        digits = np.ones(len(first), dtype=np.int64)
        magnitude = np.abs(first)
        while (magnitude >= self.base).any():
            magnitude = magnitude // self.base
            digits += magnitude > 0
        return digits

    # --- people --------------------------------------------------------------------------------------
    def parse_problem(self, args: Sequence[str]) -> Problems:
        """Integers (`a/b` for a fraction); operator words such as + - * x mod vs = are skipped, so
        `7 + 9`, `3/4 vs 2/3` and `[[1, 2], [3, 4]]` read as they look."""
        k = OPERATIONS[self.operation][0]
        words = " ".join(args).replace("/", " ").replace(",", " ").replace("[", " ").replace("]", " ").split()
        numbers = []
        for word in words:
            if word in ("+", "-", "*", "x", "mod", "%", "vs", "=", "?", "<", ">"):
                continue
            try:
                numbers.append(ascii_int(word))
            except ValueError as error:
                raise ConfigError(f"{error}; a {self.operation} problem is {k} integers") from None
        if len(numbers) != k:
            raise ConfigError(
                f"a {self.operation} problem is {k} integers, got {len(numbers)}: {shown(' '.join(args))}"
            )
        operands = np.array([numbers], dtype=np.int64)
        if self.modulus is not None:
            low, high = 0, self.modulus - 1
        else:
            low, high = self.min_int, self.max_int
        for i, value in enumerate(numbers):
            low_i = max(1, low) if self.operation in FRACTIONS and i % 2 else low
            if not low_i <= value <= high:
                raise ConfigError(f"{value} is outside the trained range {low_i}..{high}")
        return {"operands": operands}

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        values, valid = self.read(hypotheses)
        texts = ["/".join(map(str, row)) for row in values.tolist()]
        return [text if ok else "(malformed)" for text, ok in zip(texts, valid.tolist(), strict=True)]

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        answers = self.answers(problems)
        return [
            {"operands": row.tolist(), "answer": answer.tolist()}
            for row, answer in zip(problems["operands"], answers, strict=True)
        ]
