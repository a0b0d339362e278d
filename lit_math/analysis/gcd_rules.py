"""What a model predicts for each GCD class, and the three rules of Charton (2023) that explain it.

Pure functions over a count table: true class k (rows, k = 1..K) by prediction (columns: the values 1..K,
then "larger" than K, then "invalid" for malformed answers). Nothing here knows about torch or training.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

LEARNED_THRESHOLD = 0.9
"""A GCD is learned when at least 90% of its pairs are answered right. Predictions are near-deterministic per
class (rule 1), so a class sits either close to 100% or far below; 0.9 separates the two while tolerating the
few pairs a learned class still gets wrong."""


@dataclass(frozen=True)
class ClassTable:
    """Counts of predictions per true class."""

    counts: np.ndarray
    """(K, K + 2) int64: row k - 1 is class k; columns: predicted 1..K, larger than K, invalid."""

    @classmethod
    def empty(cls, classes: int) -> ClassTable:
        return cls(np.zeros((classes, classes + 2), dtype=np.int64))

    def add(self, true: np.ndarray, predicted: np.ndarray, valid: np.ndarray) -> None:
        """Count a batch: true classes outside 1..K are ignored; invalid or non-positive predictions are 'invalid'."""
        k = self.classes
        keep = (true >= 1) & (true <= k)
        column = np.where(~valid | (predicted < 1), k + 1, np.where(predicted > k, k, predicted - 1))
        np.add.at(self.counts, (true[keep] - 1, column[keep]), 1)

    @property
    def classes(self) -> int:
        return self.counts.shape[0]

    def label(self, column: int) -> str:
        return str(column + 1) if column < self.classes else ("larger" if column == self.classes else "invalid")

    @property
    def totals(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    @property
    def present(self) -> np.ndarray:
        """The classes (1..K) that have examples."""
        return np.flatnonzero(self.totals) + 1

    @property
    def accuracy(self) -> np.ndarray:
        """Per class k = 1..K; NaN for a class without examples."""
        k = np.arange(self.classes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts[k, k] / self.totals

    @property
    def top_prediction(self) -> np.ndarray:
        """Column of the most common prediction of each class (see `label`)."""
        return self.counts.argmax(axis=1)

    @property
    def top_share(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts.max(axis=1) / self.totals

    def learned(self, threshold: float = LEARNED_THRESHOLD) -> list[int]:
        return [int(k) for k in self.present if self.accuracy[k - 1] >= threshold]


def prime_factors(n: int) -> set[int]:
    factors, p = set(), 2
    while p * p <= n:
        while n % p == 0:
            factors.add(p)
            n //= p
        p += 1
    if n > 1:
        factors.add(n)
    return factors


def is_base_product(k: int, base: int) -> bool:
    """k is a product of primes dividing the base (1 included): what rule 2 predicts is learned first."""
    return prime_factors(k) <= prime_factors(base)


@dataclass(frozen=True)
class Rules:
    """The three rules on one table."""

    mean_top_share: float
    """R1: mean share of the most common prediction over the classes present (1.0: fully deterministic)."""
    deterministic_classes: int
    """R1: classes whose most common prediction has a share of at least 0.9."""
    grokked: list[int]
    """R2: learned GCDs that are not products of the base's primes (learned later, in steps)."""
    r3_explained: float
    """R3: share of unlearned classes whose most common prediction is the largest learned GCD dividing k."""
    r3_unexplained: list[int]
    """R3: the unlearned classes it does not explain."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN, for a figure with nothing to measure, becomes None)."""
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in asdict(self).items()}


def check_rules(table: ClassTable, base: int, threshold: float = LEARNED_THRESHOLD) -> Rules:
    present = table.present
    shares = table.top_share[present - 1]
    learned = table.learned(threshold)
    unlearned = [int(k) for k in present if k not in set(learned)]
    unexplained = []
    for k in unlearned:
        divisors = [d for d in learned if k % d == 0]
        expected = max(divisors) - 1 if divisors else None  # column of the value max(divisors)
        if expected is None or table.top_prediction[k - 1] != expected:
            unexplained.append(k)
    return Rules(
        mean_top_share=float(shares.mean()) if len(shares) else float("nan"),
        deterministic_classes=int((shares >= 0.9).sum()),
        grokked=[k for k in learned if not is_base_product(k, base)],
        r3_explained=1.0 - len(unexplained) / len(unlearned) if unlearned else float("nan"),
        r3_unexplained=unexplained,
    )


TABLE_COLUMNS = ("k", "most common prediction", "share", "accuracy", "learned")


def table_rows(table: ClassTable, threshold: float = LEARNED_THRESHOLD) -> list[tuple[str, ...]]:
    """The paper's layout, one row per class present: k, most common prediction, its share, accuracy, learned."""
    learned = set(table.learned(threshold))
    return [
        (
            str(k),
            table.label(table.top_prediction[k - 1]),
            f"{table.top_share[k - 1]:.2f}",
            f"{table.accuracy[k - 1]:.2f}",
            "yes" if k in learned else "",
        )
        for k in table.present
    ]


def markdown_table(table: ClassTable, threshold: float = LEARNED_THRESHOLD) -> str:
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|---:|---:|---:|---:|:---:|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in table_rows(table, threshold)])
