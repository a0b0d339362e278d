"""What every problem family provides: sampling, encoding, scoring. The model and the data stream only see this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import Vocabulary

Problems = dict[str, np.ndarray]
"""A batch of problems: named numpy arrays sharing their first dimension (e.g. `a`, `b` for GCD)."""


class Task(ABC):
    """A problem family with its configuration: pure and deterministic given a `numpy.random.Generator`."""

    family: ClassVar[str]
    vocabulary: Vocabulary
    max_source_len: int
    """Longest encoded problem, end-of-sequence included: sizes the encoder's positions."""
    max_target_len: int
    """Longest encoded answer, begin- and end-of-sequence included: sizes the decoder and generation."""
    rejection_kinds: ClassVar[tuple[str, ...]] = ()
    """Why the generator rejects attempts; a task that has some returns, with its problems, `rejected`: per
    kept problem, the attempts rejected before it, one column per kind (logged by GenerationStats)."""
    distinct_in_batch: ClassVar[bool] = False
    """Whether a training batch must not hold one problem twice (the symbolic papers deduplicate their data)."""
    problem_space: int | None = None
    """How many distinct problems the task has, when few enough to matter (small moduli, small operands): the
    data refuses an epoch of fresh problems larger than that. None: practically unlimited."""
    outcome_kinds: ClassVar[tuple[str, ...]] = ()
    """Named outcomes that `judge` reports besides correctness (kinds of failure such as malformed or timeout,
    accuracy at stricter tolerances), logged as shares. Read it per instance: a task may make it a property."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild this task with `lit_math.tasks.build_task` (saved in checkpoints)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        """`n` training problems drawn from the configured distribution."""

    @abstractmethod
    def keys(self, problems: Problems) -> np.ndarray:
        """One int64 identity per problem; equal keys mean the same problem (held-out exclusion uses them)."""

    @abstractmethod
    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        """Source ids (problem + EOS) and target ids (BOS + solution + EOS), padded with PAD."""

    @abstractmethod
    def score(self, problems: Problems, hypotheses: np.ndarray) -> np.ndarray:
        """Boolean correctness of generated ids (without BOS); a malformed hypothesis is wrong, never an error."""

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """`score`, plus a boolean mask per outcome kind (one scoring pass for both)."""
        return self.score(problems, hypotheses), {}

    @abstractmethod
    def classes(self, problems: Problems) -> np.ndarray:
        """The class of each problem (per-class metrics), as int64."""

    classes_are: ClassVar[str] = "class"
    """What `classes` returns, in words (reports name their columns with it)."""

    @abstractmethod
    def parse_problem(self, args: Sequence[str]) -> Problems:
        """One problem from command-line words; raises ValueError naming the bad word and what is allowed."""

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        """Each problem as JSON-ready values (prediction files)."""
        n = count(problems)
        return [{name: values[i].item() for name, values in problems.items()} for i in range(n)]

    @abstractmethod
    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        """A human reading of each hypothesis (its value, or why it is malformed)."""


def row_keys(rows: np.ndarray) -> np.ndarray:
    """One int64 key per row of a 2-D integer array, folding its columns with splitmix64's finaliser: distinct
    rows get distinct keys but for collisions of probability 2^-64 per pair."""
    keys = np.full(len(rows), np.uint64(rows.shape[1]))
    with np.errstate(over="ignore"):
        for column in rows.T:
            x = (keys ^ column.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            keys = x ^ (x >> np.uint64(31))
    return keys.view(np.int64)


def count(problems: Problems) -> int:
    """How many problems a batch holds."""
    return len(next(iter(problems.values())))


def take(problems: Problems, index: np.ndarray | slice) -> Problems:
    """Rows `index` (boolean mask or integer indices) of every array of `problems`."""
    return {name: values[index] for name, values in problems.items()}
