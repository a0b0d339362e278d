"""Greatest common divisor of two integers (Charton 2023, "Learning the greatest common divisor").

Problem `+ a + b` in base B, solution `+ gcd(a, b)`. The training distribution is the object of study:
operands uniform or log-uniform, and outcomes natural (operands drawn independently, so P(gcd = k) is about
6 / (pi^2 k^2)) or drawn from a law on 1..max_outcome first, then a coprime pair scaled by k.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from lit_math.encoding import Vocabulary
from lit_math.encoding.sequences import unpack_integers
from lit_math.errors import ConfigError, ascii_int, check_choice, check_int, shown
from lit_math.tasks.base import IntegersInBase, Problems, Task

OperandLaw = Literal["uniform", "loguniform"]
OutcomeLaw = Literal["natural", "inverse", "inverse_sqrt", "inverse_1_5", "uniform"]
OPERAND_LAWS: tuple[str, ...] = ("uniform", "loguniform")
OUTCOME_EXPONENTS = {"inverse": 1.0, "inverse_sqrt": 0.5, "inverse_1_5": 1.5, "uniform": 0.0}
OUTCOME_LAWS: tuple[str, ...] = ("natural", *OUTCOME_EXPONENTS)
MAX_INT_LIMIT = 2**31
"""Largest `max_int`: problem keys `min * (M + 1) + max` must fit in int64."""


TRIES = 3
"""Candidates drawn per example and round by the rejection samplers: fewer rounds of numpy calls."""


def _first_accepted(candidates: np.ndarray, accepted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each column of (TRIES, m, ...) candidates, the first accepted one, and whether there was one."""
    first = accepted.argmax(axis=0)
    return candidates[first, np.arange(accepted.shape[1])], accepted.any(axis=0)


@dataclass(frozen=True)
class GCDTask(IntegersInBase, Task):
    """GCD of two integers in 1..max_int, written in `base`."""

    family: ClassVar[str] = "gcd"
    base: int = 10
    """Base in which integers are written (2..100000); the paper's best is 30, its worst 31."""
    max_int: int = 1_000_000
    """Operands lie in 1..max_int (M)."""
    operands: OperandLaw = "uniform"
    """Operand law: ``uniform`` on 1..M, or ``loguniform`` (P(n) proportional to 1/n)."""
    outcomes: OutcomeLaw = "natural"
    """``natural`` (independent operands, P(gcd=k) about 6/(pi^2 k^2)) or a law drawn first on 1..max_outcome:
    ``inverse`` (1/k), ``inverse_sqrt``, ``inverse_1_5`` or ``uniform``."""
    max_outcome: int | None = None
    """Largest GCD drawn by the outcome laws (default 100, or max_int if smaller)."""
    mixture: float = 0.0
    """Share of training examples whose GCD is drawn uniformly in 1..max_outcome; the rest follow ``outcomes``."""

    def __post_init__(self) -> None:
        self.codec  # noqa: B018 (validates the base)
        check_int("max_int", self.max_int, 2, MAX_INT_LIMIT)
        check_choice("operands", self.operands, OPERAND_LAWS)
        check_choice("outcomes", self.outcomes, OUTCOME_LAWS)
        if self.max_outcome is None:  # the default is written here only, and saved resolved
            object.__setattr__(self, "max_outcome", min(100, self.max_int))
        check_int("max_outcome (at most max_int)", self.max_outcome, 1, self.max_int)
        if not 0.0 <= self.mixture <= 1.0:
            raise ConfigError(f"mixture is a share of examples, in 0..1; got {self.mixture!r}")

    @functools.cached_property
    def digits(self) -> int:
        return self.codec.n_digits(self.max_int)

    @property
    def max_source_len(self) -> int:  # type: ignore[override]
        return 2 * (1 + self.digits) + 1

    @property
    def max_target_len(self) -> int:  # type: ignore[override]
        return 1 + (1 + self.digits) + 1

    @property
    def largest_class(self) -> int:
        """The paper tabulates GCDs 1..100 (or 1..max_int when that is smaller)."""
        return min(100, self.max_int)

    # --- distributions -------------------------------------------------------------------------------
    def operand_values(
        self, rng: np.random.Generator, caps: int | np.ndarray, size: int, law: str | None = None
    ) -> np.ndarray:
        """`size` integers, entry i in 1..caps[i] (or 1..caps), uniform or with P(n) proportional to 1/n."""
        if (law or self.operands) == "uniform":
            return rng.integers(1, caps + 1, size=size)
        # Exact 1/n law by rejection from floor(exp(U log(cap + 1))), whose P(n) = log(1 + 1/n) / log(cap + 1):
        # accept n with probability log(2) / (n log(1 + 1/n)), in (0.69, 1].
        caps = np.broadcast_to(np.asarray(caps, dtype=np.int64), (size,))
        out = np.empty(size, dtype=np.int64)
        todo = np.arange(size)
        while len(todo):
            c = caps[todo]
            u = rng.random((2, TRIES, len(todo)))
            n = np.clip(np.floor(np.exp(u[0] * np.log(c + 1.0))).astype(np.int64), 1, c)
            value, found = _first_accepted(n, u[1] * (n * np.log1p(1.0 / n)) <= np.log(2.0))
            out[todo[found]] = value[found]
            todo = todo[~found]
        return out

    def outcome_probabilities(self, law: str) -> np.ndarray:
        """P(gcd = k) for k = 1..max_outcome under a drawn-outcome law."""
        k = np.arange(1, self.max_outcome + 1, dtype=np.float64)
        weights = k ** -OUTCOME_EXPONENTS[law]
        return weights / weights.sum()

    @functools.cache  # noqa: B019 (tasks are frozen and few)
    def outcome_cdf(self, law: str) -> np.ndarray:
        return np.cumsum(self.outcome_probabilities(law))

    def pairs_with_gcd(self, rng: np.random.Generator, k: np.ndarray, law: str | None = None) -> Problems:
        """Pairs (k a, k b) with a, b coprime, drawn from the operand law on 1..max_int // k."""
        k = np.asarray(k, dtype=np.int64)
        caps = self.max_int // k
        a = np.empty(len(k), dtype=np.int64)
        b = np.empty(len(k), dtype=np.int64)
        todo = np.arange(len(k))
        while len(todo):
            m = len(todo)
            x, y = self.operand_values(rng, np.tile(caps[todo], 2 * TRIES), 2 * TRIES * m, law).reshape(2, TRIES, m)
            pair, found = _first_accepted(np.stack([x, y], axis=-1), np.gcd(x, y) == 1)
            a[todo[found]], b[todo[found]] = pair[found, 0], pair[found, 1]
            todo = todo[~found]
        return {"a": a * k, "b": b * k}

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        if self.outcomes == "natural" and self.mixture == 0:  # the common case, in two draws
            a, b = self.operand_values(rng, self.max_int, 2 * n).reshape(2, n)
            return {"a": a, "b": b}
        mixed = rng.random(n) < self.mixture
        a = np.empty(n, dtype=np.int64)
        b = np.empty(n, dtype=np.int64)
        drawn = mixed | (self.outcomes != "natural")
        natural = ~drawn
        if natural.any():
            count = int(natural.sum())
            a[natural], b[natural] = (
                self.operand_values(rng, self.max_int, count),
                self.operand_values(rng, self.max_int, count),
            )
        if drawn.any():
            ks = np.empty(int(drawn.sum()), dtype=np.int64)
            from_mixture = mixed[drawn]
            for law, rows in (("uniform", from_mixture), (self.outcomes, ~from_mixture)):
                if rows.any():
                    draws = np.searchsorted(self.outcome_cdf(law), rng.random(int(rows.sum())), side="right")
                    ks[rows] = 1 + np.minimum(draws, self.max_outcome - 1)  # in case rounding leaves cdf[-1] < 1
            pairs = self.pairs_with_gcd(rng, ks)
            a[drawn], b[drawn] = pairs["a"], pairs["b"]
        return {"a": a, "b": b}

    @property
    def problem_space(self) -> int:  # type: ignore[override]
        """Unordered pairs of 1..max_int (a pair and its swap are one problem)."""
        return self.max_int * (self.max_int + 1) // 2

    # --- encoding and scoring ------------------------------------------------------------------------
    def keys(self, problems: Problems) -> np.ndarray:
        # (a, b) and (b, a) are one problem: the model must not see either order of a held-out pair.
        a, b = problems["a"], problems["b"]
        return np.minimum(a, b) * (self.max_int + 1) + np.maximum(a, b)

    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        a, b = problems["a"], problems["b"]
        table = self.codec.digit_table(np.stack([a, b, np.gcd(a, b)]), self.digits, self.offset)
        eos, pad = Vocabulary.eos_id, Vocabulary.pad_id
        return table.rows([0, 1], end=eos, pad=pad)[0], table.rows([2], end=eos, pad=pad, begin=Vocabulary.bos_id)[0]

    def decode(self, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integer each hypothesis reads as, and whether it is well formed."""
        return unpack_integers(hypotheses, self.offset, self.codec)

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        values, valid = self.decode(hypotheses)
        return valid & (values == np.gcd(problems["a"], problems["b"])), {}

    classes_are: ClassVar[str] = "gcd"

    def classes(self, problems: Problems) -> np.ndarray:
        return np.gcd(problems["a"], problems["b"]).astype(np.int64)

    def parse_problem(self, args: Sequence[str]) -> Problems:
        if len(args) != 2:
            raise ConfigError(f"a GCD problem is two integers, got {len(args)} words: {shown(' '.join(args))}")
        values = []
        for word in args:
            try:
                value = ascii_int(word)
            except ValueError as error:
                raise ConfigError(f"{error}; give two integers in 1..{self.max_int}") from None
            if not 1 <= value <= self.max_int:
                raise ConfigError(f"{value} is outside the trained range 1..{self.max_int}")
            values.append(value)
        return {"a": np.array(values[:1]), "b": np.array(values[1:])}

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        values, valid = self.decode(hypotheses)
        return [str(v) if ok else "(malformed)" for v, ok in zip(values.tolist(), valid.tolist(), strict=True)]
