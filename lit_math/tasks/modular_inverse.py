"""Modular inverse: the x in 0..m-1 with a x = 1 (mod m), for a residue a coprime with the modulus m.

Problem `+ a + m`, answer `+ x`, integers in base B as in the GCD family. Computing x is the extended
Euclidean algorithm, the GCD's own, run backwards: what does a model that learns GCDs learn of this? Residues
that share a factor with their modulus have no inverse: they are drawn again and counted (`not_invertible`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lit_math.encoding import Vocabulary
from lit_math.encoding.sequences import unpack_integers
from lit_math.errors import ConfigError, ascii_int, check_int, shown
from lit_math.tasks.base import IntegersInBase, Problems, Task

MAX_MODULUS = 2**31 - 1
"""Products a x of two residues must fit in int64."""
MAX_DRAWS = 1000
"""Rounds of redrawing residues before a batch gives up (only a modulus range of almost no units could)."""


def inverses(a: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Extended Euclid on whole arrays: x in 0..m-1 with a x = 1 (mod m), and gcd(a, m) (no inverse unless 1).

    One numpy step per division for the batch at once: about log_phi(m) steps, never one per example.
    """
    r0, r1 = m.astype(np.int64), np.mod(a, m).astype(np.int64)
    s0, s1 = np.zeros_like(r0), np.ones_like(r0)  # invariant: s_i a = r_i (mod m)
    while (r1 != 0).any():
        going = r1 != 0
        q = np.where(going, r0 // np.where(going, r1, 1), 0)
        r0, r1 = np.where(going, r1, r0), np.where(going, r0 - q * r1, r1)
        s0, s1 = np.where(going, s1, s0), np.where(going, s0 - q * s1, s1)
    return np.mod(s0, m), r0


@dataclass(frozen=True)
class ModularInverseTask(IntegersInBase, Task):
    """Inverse of a residue modulo m, with m uniform in min_modulus..max_modulus (one modulus when equal)."""

    family: ClassVar[str] = "modular_inverse"
    base: int = 10
    """Base in which integers are written."""
    min_modulus: int = 2
    """Smallest modulus."""
    max_modulus: int = 1000
    """Largest modulus (at most 2^31 - 1); residues a are drawn uniformly in 1..m-1 among the invertible ones."""

    rejection_kinds: ClassVar[tuple[str, ...]] = ("not_invertible",)
    outcome_kinds: ClassVar[tuple[str, ...]] = ("malformed", "not_reduced")
    classes_are: ClassVar[str] = "modulus"

    def __post_init__(self) -> None:
        self.codec  # noqa: B018 (checks the base)
        check_int("max_modulus", self.max_modulus, 2, MAX_MODULUS)
        check_int(f"min_modulus (at most max_modulus={self.max_modulus})", self.min_modulus, 2, self.max_modulus)

    @functools.cached_property
    def digits(self) -> int:
        return self.codec.n_digits(self.max_modulus)

    @property
    def max_source_len(self) -> int:  # type: ignore[override]
        return 2 * (1 + self.digits) + 1

    @property
    def max_target_len(self) -> int:  # type: ignore[override]
        return (1 + self.digits) + 2

    @functools.cached_property
    def problem_space(self) -> int | None:  # type: ignore[override]
        """Invertible pairs (a, m): the sum of Euler's phi(m) over the moduli (a sieve), when that can matter."""
        if self.max_modulus > 10**6:
            return None
        phi = np.arange(self.max_modulus + 1, dtype=np.int64)
        for p in range(2, self.max_modulus + 1):
            if phi[p] == p:  # p is prime: every multiple loses the share 1/p
                phi[p::p] -= phi[p::p] // p
        return int(phi[self.min_modulus :].sum())

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        m = rng.integers(self.min_modulus, self.max_modulus + 1, n)
        a = rng.integers(1, m)
        rejected = np.zeros((n, 1), dtype=np.int32)
        for _ in range(MAX_DRAWS):
            bad = np.flatnonzero(np.gcd(a, m) != 1)
            if not len(bad):
                return {"a": a, "m": m, "rejected": rejected}
            rejected[bad] += 1
            a[bad] = rng.integers(1, m[bad])  # the same modulus: the law of m stays uniform
        raise ConfigError(f"no invertible residue found in {MAX_DRAWS} draws: widen min_modulus..max_modulus")

    def keys(self, problems: Problems) -> np.ndarray:
        return problems["m"] * (self.max_modulus + 1) + problems["a"]

    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        a, m = problems["a"], problems["m"]
        table = self.codec.digit_table(np.stack([a, m, inverses(a, m)[0]]), self.digits, self.offset)
        eos, pad = Vocabulary.eos_id, Vocabulary.pad_id
        return table.rows([0, 1], end=eos, pad=pad)[0], table.rows([2], end=eos, pad=pad, begin=Vocabulary.bos_id)[0]

    def decode(self, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integer each hypothesis reads as, and whether it is well formed."""
        return unpack_integers(hypotheses, self.offset, self.codec)

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        x, valid = self.decode(hypotheses)
        a, m = problems["a"], problems["m"]
        inverse = valid & (np.mod(a * np.mod(x, m), m) == 1)  # x mod m first: a x stays in int64
        reduced = (x >= 0) & (x < m)
        return inverse & reduced, {"malformed": ~valid, "not_reduced": inverse & ~reduced}

    def classes(self, problems: Problems) -> np.ndarray:
        return problems["m"].astype(np.int64)

    def parse_problem(self, args: Sequence[str]) -> Problems:
        """`a m` (or `a mod m`): the residue, then the modulus."""
        words = [w for w in " ".join(args).split() if w not in ("mod", "%")]
        if len(words) != 2:
            raise ConfigError(f"a modular inverse problem is a residue and a modulus, got {shown(' '.join(args))}")
        try:
            a, m = (ascii_int(w) for w in words)
        except ValueError as error:
            raise ConfigError(f"{error}; give a residue and a modulus") from None
        if not self.min_modulus <= m <= self.max_modulus:
            raise ConfigError(f"modulus {m} is outside the trained range {self.min_modulus}..{self.max_modulus}")
        if not 1 <= a < m or np.gcd(a, m) != 1:
            raise ConfigError(f"{a} has no inverse modulo {m}: give a residue in 1..{m - 1} coprime with {m}")
        return {"a": np.array([a]), "m": np.array([m]), "rejected": np.zeros((1, 1), dtype=np.int32)}

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        x, valid = self.decode(hypotheses)
        return [str(v) if ok else "(malformed)" for v, ok in zip(x.tolist(), valid.tolist(), strict=True)]
