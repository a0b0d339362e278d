"""Linear algebra on matrices of several sizes in one run (Charton 2022 trains on 5x5 to 15x15 at once).

A batch mixes sizes, yet every `Problems` array keeps one shape: matrices are stored padded (NaN) to the
largest size, with their true `dims`. So the training stream, held-out exclusion, resampling and DDP
sharding work unchanged; each operation runs on the problems of one size at a time, with that size's
fixed-shape `LinearAlgebraTask`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from itertools import product
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import Vocabulary
from lit_math.errors import ConfigError, ascii_int, check_int, shown
from lit_math.tasks.base import Problems, Task
from lit_math.tasks.linalg import LinearAlgebraKnobs, LinearAlgebraTask


@dataclass(frozen=True)
class LinearAlgebraSizes(LinearAlgebraKnobs, Task):
    """`operation` on matrices of `min_rows`..`rows` rows, drawn uniformly: square of each size by default;
    with `cols`, rows and columns drawn independently (columns in `min_rows`..`cols`)."""

    family: ClassVar[str] = "linalg_sizes"
    min_rows: int = 1
    """Train on every size from ``min_rows`` to ``rows`` at once, drawn uniformly (square, or with ``cols``
    rows and columns drawn independently, columns up to ``cols``)."""

    def __post_init__(self) -> None:
        super().__post_init__()  # checks every knob (the vocabulary they make is shared by all sizes)
        check_int(f"min_rows (at most rows={self.rows})", self.min_rows, 1, self.rows)
        if self.cols is not None and self.cols < self.min_rows:
            raise ConfigError(f"cols={self.cols} is smaller than min_rows={self.min_rows}")

    @functools.cached_property
    def tasks(self) -> list[LinearAlgebraTask]:
        """The task of each size, from the smallest to the largest."""
        knobs = {f.name: getattr(self, f.name) for f in fields(LinearAlgebraKnobs)}
        if self.cols is None or self.spec.square:
            shapes = [(k, None) for k in range(self.min_rows, self.rows + 1)]
        else:
            shapes = list(product(range(self.min_rows, self.rows + 1), range(self.min_rows, self.cols + 1)))
        return [LinearAlgebraTask(**{**knobs, "rows": r, "cols": c}) for r, c in shapes]

    @functools.cached_property
    def _index(self) -> dict[tuple[int, int], int]:
        return {t.shape: i for i, t in enumerate(self.tasks)}

    @functools.cached_property
    def max_source_len(self) -> int:  # type: ignore[override]
        return max(t.max_source_len for t in self.tasks)

    @functools.cached_property
    def max_target_len(self) -> int:  # type: ignore[override]
        return max(t.max_target_len for t in self.tasks)

    # --- one size at a time --------------------------------------------------------------------------
    def _groups(self, problems: Problems) -> list[tuple[LinearAlgebraTask, np.ndarray, Problems]]:
        """For each size present: its task, the rows of the batch, and those problems unpadded."""
        dims, inverse = np.unique(problems["dims"], axis=0, return_inverse=True)
        groups = []
        for k, (r, c) in enumerate(dims):
            task, rows = self.tasks[self._index[(int(r), int(c))]], np.flatnonzero(inverse.ravel() == k)
            shapes = task.entry_shapes()
            unpadded = {
                name: values[rows][(slice(None), *(slice(0, k) for k in shapes[name]))]
                for name, values in problems.items()
                if name != "dims"
            }
            groups.append((task, rows, unpadded))
        return groups

    def _padded(self, n: int, groups: Sequence[tuple[LinearAlgebraTask, np.ndarray, Problems]]) -> Problems:
        """`n` problems gathered from problems of one size each (the inverse of `_groups`)."""
        shapes = self.entry_shapes()
        out: Problems = {}
        for task, rows, part in groups:
            for name, values in {**part, "dims": np.broadcast_to(task.shape, (len(rows), 2))}.items():
                if name not in out:
                    fill = np.nan if values.dtype.kind == "f" else 0
                    out[name] = np.full((n, *shapes[name]), fill, dtype=values.dtype)
                out[name][(rows, *(slice(0, k) for k in values.shape[1:]))] = values
        return out

    # --- sampling ------------------------------------------------------------------------------------
    def entry_shapes(self) -> dict[str, tuple[int, ...]]:
        return {**self.tasks[-1].entry_shapes(), "dims": (2,)}  # the last size is the largest in every entry

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        which = rng.integers(len(self.tasks), size=n)
        groups = []
        for i in np.unique(which):
            rows = np.flatnonzero(which == i)
            groups.append((self.tasks[i], rows, self.tasks[i].sample(rng, len(rows))))
        return self._padded(n, groups)

    def sample_of_size(self, rng: np.random.Generator, n: int, shape: tuple[int, int]) -> Problems:
        """`n` problems of one size (the evaluation sets by size), stored like `sample`'s."""
        if shape not in self._index:
            raise ConfigError(f"size {shape[0]}x{shape[1]} is not one of this task's: {self._sizes()}")
        task = self.tasks[self._index[shape]]
        return self._padded(n, [(task, np.arange(n), task.sample(rng, n))])

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return [t.shape for t in self.tasks]

    def keys(self, problems: Problems) -> np.ndarray:
        keys = np.empty(len(problems["dims"]), dtype=np.int64)
        for task, rows, part in self._groups(problems):
            keys[rows] = task.keys(part)
        return keys

    # --- encoding and scoring ------------------------------------------------------------------------
    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        n = len(problems["dims"])
        encoded = [(rows, task.encode(part)) for task, rows, part in self._groups(problems)]
        sides = []
        for side in (0, 1):  # blocks of one size each, already padded: placed in one array, PAD after
            width = max(ids[side].shape[1] for _, ids in encoded)
            out = np.full((n, width), Vocabulary.pad_id, dtype=np.int64)
            for rows, ids in encoded:
                out[rows, : ids[side].shape[1]] = ids[side]
            sides.append(out)
        return sides[0], sides[1]

    def decode(self, hypotheses: np.ndarray) -> tuple[list[list[np.ndarray] | None], np.ndarray]:
        """Each hypothesis read at the size its dimension tokens name: its parts (arrays in that size's output
        shapes), None when it is well formed at no size of this task; and whether it is well formed."""
        values: list[list[np.ndarray] | None] = [None] * len(hypotheses)
        valid = np.zeros(len(hypotheses), dtype=bool)
        readers = {tuple(task.output_shapes()): task for task in self.tasks}  # sizes that write alike read alike
        for task in readers.values():
            read, ok = task.decode(hypotheses)
            ok &= ~valid  # the dimension tokens differ between readers: at most one reads a hypothesis
            parts = task.parts_of(read[ok])
            for j, row in enumerate(np.flatnonzero(ok).tolist()):
                values[row] = [part[j] for part in parts]
            valid |= ok
        return values, valid

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = len(problems["dims"])
        correct = np.zeros(n, dtype=bool)
        kinds = {kind: np.zeros(n, dtype=bool) for kind in self.outcome_kinds}
        for task, rows, part in self._groups(problems):
            right, outcomes = task.judge(part, hypotheses[rows])
            correct[rows] = right
            for kind, mask in outcomes.items():
                kinds[kind][rows] = mask
        return correct, kinds

    classes_are: ClassVar[str] = LinearAlgebraTask.classes_are

    def classes(self, problems: Problems) -> np.ndarray:
        classes = np.empty(len(problems["dims"]), dtype=np.int64)
        for task, rows, part in self._groups(problems):
            classes[rows] = task.classes(part)
        return classes

    # --- people --------------------------------------------------------------------------------------
    def parse_problem(self, args: Sequence[str]) -> Problems:
        """The numbers of one problem, its size read from how many there are (or a first word `RxC`)."""
        words = " ".join(args).replace(",", " ").split()
        if words and "x" in words[0]:
            try:
                shape = tuple(ascii_int(k) for k in words[0].split("x"))
            except ValueError:
                raise ConfigError(f"{shown(words[0])} is not a size such as 3x4") from None
            candidates = [t for t in self.tasks if t.shape == shape]
            if not candidates:
                raise ConfigError(f"size {shown(words[0], quoted=False)} is not one of this run's: {self._sizes()}")
            words = words[1:]
        else:
            counts = {t.shape: sum(int(np.prod(s)) for s in t.input_shapes()) for t in self.tasks}
            candidates = [t for t in self.tasks if counts[t.shape] == len(words)]
            if len(candidates) != 1:
                found = "no size" if not candidates else f"{len(candidates)} sizes"
                raise ConfigError(
                    f"{len(words)} numbers fit {found} of this run's ({self._sizes()}); "
                    "give the size first, e.g. 3x4 followed by the entries row by row"
                )
        task = candidates[0]
        return self._padded(1, [(task, np.zeros(1, dtype=np.int64), task.parse_problem(words))])

    def _sizes(self) -> str:
        return ", ".join(f"{r}x{c}" for r, c in self.shapes)

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        out = [""] * len(problems["dims"])
        for task, rows, part in self._groups(problems):
            for row, text in zip(rows, task.render(part, hypotheses[rows]), strict=True):
                out[row] = text
        return out

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{} for _ in problems["dims"]]
        for task, rows, part in self._groups(problems):
            for row, described in zip(rows, task.describe(part), strict=True):
                out[row] = described
        return out
