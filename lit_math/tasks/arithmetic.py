"""Integer arithmetic in any base (Int2Int's problems): sums, products, residues, fractions, determinants.

Problems are integer operands (a row of `operands`), written as in the GCD family, a sign token then digits,
so the signs separate them; answers are one integer, or two (numerator, denominator in lowest terms with a
positive denominator) for fractions. Everything is exact int64 arithmetic: operands are at most 2^31 - 1 in
magnitude, so that products and sums of products fit. Each operation is one `Operation` record of
`OPERATIONS`: adding an operation is adding a record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import Vocabulary
from lit_math.encoding.sequences import unpack_integer_rows
from lit_math.errors import ConfigError, ascii_int, check_choice, check_int, shown
from lit_math.tasks.base import IntegersInBase, Problems, Task, row_keys

MAX_OPERAND = 2**31 - 1
OPERAND_LAWS = ("uniform", "log_uniform")


def _reduced(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """(p, q) in lowest terms, q > 0 (denominators here are positive)."""
    g = np.gcd(numerator, denominator)
    return np.stack([numerator // g, denominator // g], axis=1)


@dataclass(frozen=True)
class Operation:
    """One arithmetic operation: its operands, its exact answer, and what bounds and classes follow."""

    name: str
    operands: int
    """Integers in a problem."""
    answer: Callable[[np.ndarray, int | None], np.ndarray]
    """(operands (N, operands), modulus) -> the answers, (N,) for one integer or (N, 2) for a fraction (p, q)."""
    answer_size: int = 1
    """Integers in the answer: 1, or 2 for a fraction in lowest terms."""
    largest_answer: Callable[[int], int] = lambda m: m
    """The largest |answer| given the largest |operand| m (sizes the target)."""
    modular: bool = False
    """Operands are residues of the task's modulus (which it then needs)."""
    fraction: bool = False
    """Operands are fractions a/b (c/d): every second one is a denominator, at least 1."""
    classes_are: str | None = None
    """What `classify` returns; None: the answer's (numerator's) number of digits."""
    classify: Callable[[np.ndarray], np.ndarray] | None = None
    """The class of each problem from the answers' first column; None: its number of digits."""


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("add", 2, lambda x, _: x[:, 0] + x[:, 1], largest_answer=lambda m: 2 * m),
        Operation("sub", 2, lambda x, _: x[:, 0] - x[:, 1], largest_answer=lambda m: 2 * m),
        Operation("mul", 2, lambda x, _: x[:, 0] * x[:, 1], largest_answer=lambda m: m * m),
        Operation("mod_add", 2, lambda x, n: (x[:, 0] + x[:, 1]) % n, modular=True,
                  classes_are="residue of the answer", classify=lambda first: first),
        Operation("mod_mul", 2, lambda x, n: (x[:, 0] * x[:, 1]) % n, modular=True,
                  classes_are="residue of the answer", classify=lambda first: first),
        Operation("frac_compare", 4, lambda x, _: np.sign(x[:, 0] * x[:, 3] - x[:, 2] * x[:, 1]),
                  largest_answer=lambda m: 1, fraction=True, classes_are="comparison (0: <, 1: =, 2: >)",
                  classify=lambda first: first + 1),
        Operation("frac_add", 4, lambda x, _: _reduced(x[:, 0] * x[:, 3] + x[:, 2] * x[:, 1], x[:, 1] * x[:, 3]),
                  answer_size=2, largest_answer=lambda m: 2 * m * m, fraction=True),
        Operation("frac_mul", 4, lambda x, _: _reduced(x[:, 0] * x[:, 2], x[:, 1] * x[:, 3]),
                  answer_size=2, largest_answer=lambda m: m * m, fraction=True),
        Operation("frac_simplify", 2, lambda x, _: _reduced(x[:, 0], x[:, 1]), answer_size=2, fraction=True),
        Operation("frac_round", 2, lambda x, _: (2 * x[:, 0] + x[:, 1]) // (2 * x[:, 1]),  # nearest, halves up
                  fraction=True),
        Operation("determinant", 4, lambda x, _: x[:, 0] * x[:, 3] - x[:, 1] * x[:, 2],
                  largest_answer=lambda m: 2 * m * m),
    )
}  # fmt: skip
"""Every operation by name."""


@dataclass(frozen=True)
class ArithmeticTask(IntegersInBase, Task):
    """One operation on integers in `base`; operands in min_int..max_int (residues 0..modulus-1 for the
    modular operations, denominators at least 1)."""

    family: ClassVar[str] = "arithmetic"
    operation: str = "add"
    """``add``, ``sub``, ``mul``, ``mod_add``, ``mod_mul`` (with ``modulus``), ``frac_compare``
    (a/b vs c/d: -1, 0, 1), ``frac_add``, ``frac_mul``, ``frac_simplify`` (lowest terms), ``frac_round``
    (nearest integer, halves up) or ``determinant`` (a d - b c of a 2x2 matrix)."""
    base: int = 10
    """Base the integers are written in."""
    min_int: int = 0
    """Smallest operand (denominators are at least 1); negative operands are allowed."""
    max_int: int = 999
    """Largest operand (at most 2^31 - 1)."""
    operands: str = "uniform"
    """``uniform`` on min_int..max_int, or ``log_uniform`` (every order of magnitude as likely; min_int >= 1)."""
    modulus: int | None = None
    """The modulus of ``mod_add`` and ``mod_mul``; operands are its residues."""

    def __post_init__(self) -> None:
        check_choice("operation", self.operation, tuple(OPERATIONS))
        check_choice("operands", self.operands, OPERAND_LAWS)
        check_int("max_int", self.max_int, 1 if self.spec.fraction else 0, MAX_OPERAND)
        check_int(f"min_int (at most max_int={self.max_int})", self.min_int, -MAX_OPERAND, self.max_int)
        if self.operands == "log_uniform" and self.min_int < 1:
            raise ConfigError(f"log_uniform operands need min_int >= 1, got min_int={self.min_int}")
        if self.spec.modular != (self.modulus is not None):
            modular = " and ".join(name for name, op in OPERATIONS.items() if op.modular)
            raise ConfigError(
                f"modulus is for {modular} only, and they need one; "
                f"got operation={self.operation}, modulus={self.modulus}"
            )
        if self.modulus is not None:
            check_int("modulus", self.modulus, 2, MAX_OPERAND)
        self.codec  # noqa: B018 (validates the base)

    @property
    def spec(self) -> Operation:
        """The record of this task's operation."""
        return OPERATIONS[self.operation]

    @functools.cached_property
    def largest_operand(self) -> int:
        return self.modulus - 1 if self.modulus else max(abs(self.min_int), abs(self.max_int))

    @functools.cached_property
    def operand_digits(self) -> int:
        return self.codec.n_digits(self.largest_operand)

    @functools.cached_property
    def answer_digits(self) -> int:
        return self.codec.n_digits(self.spec.largest_answer(self.largest_operand))

    @property
    def max_source_len(self) -> int:  # type: ignore[override]
        return self.spec.operands * (self.operand_digits + 1) + 1

    @property
    def max_target_len(self) -> int:  # type: ignore[override]
        return self.spec.answer_size * (self.answer_digits + 1) + 2

    # --- sampling ------------------------------------------------------------------------------------
    def _draw(self, rng: np.random.Generator, shape: tuple[int, ...], low: int) -> np.ndarray:
        high = self.max_int
        if self.operands == "uniform":
            return rng.integers(low, high + 1, shape, dtype=np.int64)
        values = np.exp(rng.uniform(np.log(low), np.log(high + 1), shape))
        return np.clip(np.floor(values), low, high).astype(np.int64)

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        k = self.spec.operands
        if self.modulus is not None:
            return {"operands": rng.integers(0, self.modulus, (n, k), dtype=np.int64)}
        operands = self._draw(rng, (n, k), self.min_int)
        if self.spec.fraction:  # a/b (c/d): denominators in max(1, min_int)..max_int
            operands[:, 1::2] = self._draw(rng, (n, k // 2), max(1, self.min_int))
        return {"operands": operands}

    @property
    def problem_space(self) -> int:  # type: ignore[override]
        """Ordered operand tuples (exact: small moduli and ranges are where repetition is unavoidable)."""
        k = self.spec.operands
        if self.modulus is not None:
            return self.modulus**k
        span = self.max_int - self.min_int + 1
        if self.spec.fraction:
            return (span * (self.max_int - max(1, self.min_int) + 1)) ** (k // 2)
        return span**k

    def keys(self, problems: Problems) -> np.ndarray:
        return row_keys(problems["operands"])

    # --- answers -------------------------------------------------------------------------------------
    def truth(self, problems: Problems) -> np.ndarray:
        """The exact answer of each problem: (N, 1) integers, or (N, 2) for fractions (p, q), q > 0."""
        answers = self.spec.answer(problems["operands"], self.modulus)
        return answers[:, None] if answers.ndim == 1 else answers

    # --- encoding and scoring ------------------------------------------------------------------------
    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        operands, answers = problems["operands"], self.truth(problems)
        eos, pad = Vocabulary.eos_id, Vocabulary.pad_id
        source = self.codec.digit_table(operands.T, self.operand_digits, self.offset)
        target = self.codec.digit_table(answers.T, self.answer_digits, self.offset)
        pieces, answer_pieces = list(range(operands.shape[1])), list(range(answers.shape[1]))
        return (
            source.rows(pieces, end=eos, pad=pad)[0],
            target.rows(answer_pieces, end=eos, pad=pad, begin=Vocabulary.bos_id)[0],
        )

    def decode(self, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integers each hypothesis reads as ((N, answer_size) int64), and whether it is well formed."""
        return unpack_integer_rows(hypotheses, self.offset, self.codec, self.spec.answer_size)

    @property
    def outcome_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("malformed", "same_value") if self.spec.answer_size == 2 else ("malformed",)

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        values, valid = self.decode(hypotheses)
        truth = self.truth(problems)
        correct = valid & (values == truth).all(axis=1)
        kinds = {"malformed": ~valid}
        if truth.shape[1] == 2:  # a fraction of the right value, not in lowest terms (or with a negative q)
            p, q = values[:, 0], values[:, 1]
            g = np.maximum(np.gcd(p, q), 1) * np.where(q < 0, -1, 1)  # the hypothesis in lowest terms, q > 0
            kinds["same_value"] = valid & (q != 0) & (p // g == truth[:, 0]) & (q // g == truth[:, 1])
        return correct, kinds

    @property
    def classes_are(self) -> str:  # type: ignore[override]
        return self.spec.classes_are or f"base-{self.base} digits of the answer('s numerator)"

    def classes(self, problems: Problems) -> np.ndarray:
        first = self.truth(problems)[:, 0]
        if self.spec.classify is not None:
            return self.spec.classify(first)
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
        k = self.spec.operands
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
            low_i = max(1, low) if self.spec.fraction and i % 2 else low
            if not low_i <= value <= high:
                raise ConfigError(f"{value} is outside the trained range {low_i}..{high}")
        return {"operands": operands}

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        values, valid = self.decode(hypotheses)
        texts = ["/".join(map(str, row)) for row in values.tolist()]
        return [text if ok else "(malformed)" for text, ok in zip(texts, valid.tolist(), strict=True)]

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        answers = self.truth(problems)
        return [
            {"operands": row.tolist(), "answer": answer.tolist()}
            for row, answer in zip(problems["operands"], answers, strict=True)
        ]
