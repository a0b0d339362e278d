"""What every problem family provides: sampling, encoding, scoring. The model and the data stream only see this."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from lit_math.encoding import IntegerCodec, Vocabulary
from lit_math.errors import ConfigError

Problems = dict[str, np.ndarray]
"""A batch of problems: named numpy arrays sharing their first dimension (e.g. `a`, `b` for GCD)."""


TASKS: dict[str, type[Task]] = {}
"""Every family's task class by its `family` name: each registers itself when its module is imported."""


class Task(ABC):
    """A problem family with its configuration: pure and deterministic given a `numpy.random.Generator`.

    Tasks are frozen dataclasses whose fields are the family's knobs (with a one-line docstring each: they
    become the DataModule's `--data.*` options and help); what follows from the knobs is derived lazily
    (`functools.cached_property`), so a task is rebuilt from `config()` alone.
    """

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
    classes_are: ClassVar[str] = "class"
    """What `classes` returns, in words (reports name their columns with it)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            TASKS[cls.family] = cls

    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild this task with `lit_math.tasks.build_task` (saved in checkpoints)."""
        return {"family": self.family, **{f.name: getattr(self, f.name) for f in fields(self)}}  # type: ignore[arg-type]

    @abstractmethod
    def keys(self, problems: Problems) -> np.ndarray:
        """One int64 identity per problem; equal keys mean the same problem (held-out exclusion uses them)."""

    @abstractmethod
    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        """Source ids (problem + EOS) and target ids (BOS + solution + EOS), padded with PAD."""

    @abstractmethod
    def decode(self, hypotheses: np.ndarray) -> tuple[Any, np.ndarray]:
        """What each hypothesis (generated ids, no BOS) reads as, and whether it is well formed: the one way
        every caller (scoring, rendering, callbacks) reads an answer. Values are an array or a list, one per row."""

    @abstractmethod
    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Boolean correctness of each hypothesis, plus a boolean mask per outcome kind (one scoring pass for
        both); a malformed hypothesis is wrong, never an error."""

    def score(self, problems: Problems, hypotheses: np.ndarray) -> np.ndarray:
        """Boolean correctness of each hypothesis (`judge` without the outcome kinds)."""
        return self.judge(problems, hypotheses)[0]

    @abstractmethod
    def classes(self, problems: Problems) -> np.ndarray:
        """The class of each problem (per-class metrics), as int64."""

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


class IntegersInBase:
    """What a task whose tokens are integers written in its `base` knob derives from it: the codec, the
    vocabulary, and `offset`, the id of `+` (integer ids are the codec's local indices plus it)."""

    @functools.cached_property
    def codec(self) -> IntegerCodec:
        return IntegerCodec(self.base)  # type: ignore[attr-defined]

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.codec.tokens)

    @functools.cached_property
    def offset(self) -> int:
        return self.vocabulary.id("+")


@runtime_checkable
class Generates(Protocol):
    """A task that draws its own problems (every family but files): training streams and pools need one."""

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        """`n` training problems drawn from the configured distribution."""
        ...


@runtime_checkable
class ClassedByAnswer(Protocol):
    """A task whose answer is one integer and whose class is the true answer (the GCD): a table of predicted
    against true answers, class by class, is then what the GCD papers study."""

    largest_class: int
    """Classes 1..largest_class are tabulated by default (the paper's 100)."""

    def decode(self, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integer each hypothesis reads as (int64), and whether it is well formed."""
        ...

    def classes(self, problems: Problems) -> np.ndarray:
        """The true answer of each problem."""
        ...


def build_task(config: dict[str, Any]) -> Task:
    """The task described by `config` (its `family` plus that family's knobs)."""
    config = dict(config)
    family = config.pop("family", None)
    if family not in TASKS:
        raise ConfigError(f"unknown task family {family!r}; known: {', '.join(sorted(TASKS))}")
    return TASKS[family](**config)


def relative_l1(hypothesis: np.ndarray, target: np.ndarray) -> np.ndarray:
    """sum |hyp - tgt| / sum |tgt| over all but the first axis: the literature's error for float answers."""
    axes = tuple(range(1, target.ndim))
    scale = np.maximum(np.abs(target).sum(axis=axes), 1e-12)
    return np.abs(hypothesis - target).sum(axis=axes) / scale


def padded_rows(
    rows: Sequence[Sequence[int] | np.ndarray], width: int | None = None, dtype: type = np.int64
) -> np.ndarray:
    """Token rows of different lengths as one array padded with PAD (to `width`, or the longest)."""
    width = max((len(r) for r in rows), default=0) if width is None else width
    out = np.full((len(rows), width), Vocabulary.pad_id, dtype=dtype)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


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
