"""Training and evaluating on your own data files (Int2Int's format, typed): see `lit_math.tasks.files`."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.pool import PoolStream
from lit_math.data.stream import StreamSampler
from lit_math.encoding import SPECIAL_TOKENS
from lit_math.errors import ConfigError, check_int
from lit_math.tasks import Problems, count, take
from lit_math.tasks.files import FileTask, parse_types

MAX_LINE_BYTES = 100_000
"""Longest line read, in bytes; a longer one is refused (or skipped) before it is decoded or split."""
MAX_LINE_TOKENS = 4096
"""Most tokens on one side of a line: the model's positions, and so its memory, grow with the longest line."""


def read_lines(path: Path, skip_invalid: bool = False) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """("file:line", tab-separated fields) of every non-blank line, and the reasons of the lines skipped.

    A line over MAX_LINE_BYTES, not UTF-8, or with a reserved token stops with `file:line: reason` (or is
    skipped under `skip_invalid`), checked while reading, so a huge or binary file costs no more than its size.
    """
    if not path.is_file():
        raise ConfigError(f"no such data file: {path}")
    found, skipped = [], []
    with path.open("rb") as stream:
        for number in itertools.count(1):
            raw = stream.readline(MAX_LINE_BYTES + 2)  # bounded: a file with no line end is not read whole
            if not raw:
                break
            where = f"{path}:{number}"
            try:
                if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                    while raw and not raw.endswith(b"\n"):  # skip the rest of the line, in bounded pieces
                        raw = stream.readline(1 << 20)
                    raise ValueError(f"the line is longer than {MAX_LINE_BYTES:,} bytes")
                try:
                    line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")  # \f is no line end
                except UnicodeDecodeError as error:
                    raise ValueError(f"not UTF-8 (byte {error.start + 1} of the line)") from None
                if not line.strip():
                    continue
                fields = line.split("\t")
                reserved = next((w for field in fields for w in field.split() if w in SPECIAL_TOKENS), None)
                if reserved is not None:
                    raise ValueError(f"{reserved!r} is a reserved token (begin, end, padding of sequences)")
                longest = max(len(field.split()) for field in fields)
                if longest > MAX_LINE_TOKENS:
                    raise ValueError(f"{longest:,} tokens on one side; at most {MAX_LINE_TOKENS:,} are read")
            except ValueError as error:
                if not skip_invalid:
                    raise ConfigError(f"{where}: {error}") from None
                skipped.append(f"{where}: {error}")
                continue
            found.append((where, fields))
    return found, skipped


def examples(
    task: FileTask, lines: list[tuple[str, list[str]]], skip_invalid: bool
) -> tuple[list[tuple[list[int], list[int]]], list[str]]:
    """The lines as (problem ids, solution ids), and the reasons of the lines skipped (ConfigError on the
    first malformed line unless `skip_invalid`)."""
    rows, skipped = [], []
    for where, fields in lines:
        try:
            if len(fields) != 2:
                raise ValueError(f"{len(fields)} tab-separated fields, expected 2 (input TAB output)")
            source, target = fields[0].split(), fields[1].split()
            task.read(source, task.inputs)
            task.read(target, task.outputs)
            rows.append((task.ids(source), task.ids(target)))
        except ValueError as error:
            if not skip_invalid:
                raise ConfigError(
                    f"{where}: {error} (declared types {task.types}; skip_invalid skips such lines)"
                ) from None
            skipped.append(f"{where}: {error}")
    return rows, skipped


def padded(rows: list[tuple[list[int], list[int]]], task: FileTask) -> Problems:
    out = {
        "problem": np.zeros((len(rows), task.source_len), dtype=np.int64),
        "solution": np.zeros((len(rows), task.target_len), dtype=np.int64),
    }
    for i, (problem, solution) in enumerate(rows):
        out["problem"][i, : len(problem)] = problem
        out["solution"][i, : len(solution)] = solution
    return out


class FileDataModule(StreamingDataModule):
    """Your own examples, one per line (input tokens TAB output tokens), with declared types.

    The training file is a fixed set, seen pass after pass in a new order (the finite regime); lines whose
    problem is in an evaluation file are left out of training and counted.

    Args:
        types: ``input:output`` types, e.g. ``int[5]:range(2)``, ``int,int:int``, ``float[3]:float``,
            ``tokens:tokens``: int (sign and base-B digits), int[n] (``Vn`` then n ints), range(a,b) (one
            base-10 token), float (the float ``encoding``), float[n], tokens (anything; exact match).
        train_file: The training examples (None: evaluation only).
        eval_files: Evaluation sets by name, e.g. ``{valid: data/test.txt}``.
        base: Base of the integers (Int2Int's default is 1000).
        encoding: Float encoding: ``P10``, ``P1000``, ``B1999`` or ``FP15``.
        tolerance: Relative L1 error under which float answers are right (integers are exact).
        skip_invalid: Skip malformed lines (counted and reported) instead of stopping at the first one.
        eval_size: At most this many examples of each evaluation file (None: all).
        epoch_size: Training examples per epoch (None: one pass over the training file).
        batch_size: Examples per batch and device.
        num_workers: Dataloader worker processes per device (0: in the main process).
        seed: Seed of the passes' orders.
        eval_seed: Unused by files (kept for the shared signature).
    """

    def __init__(
        self,
        types: str = "tokens:tokens",
        train_file: str | None = None,
        eval_files: dict[str, str] | None = None,
        base: int = 1000,
        encoding: str = "P1000",
        tolerance: float = 0.05,
        skip_invalid: bool = False,
        eval_size: int | None = None,
        epoch_size: int | None = None,
        batch_size: int = 128,
        num_workers: int = 0,
        seed: int = 0,
        eval_seed: int = 1_000_003,
    ) -> None:
        if not eval_files:
            raise ConfigError("eval_files names at least one evaluation file, e.g. {valid: data/test.txt}")
        files = {"train": train_file, **eval_files} if train_file else dict(eval_files)
        lines, unread = {}, []
        for name, path in files.items():
            lines[name], skipped = read_lines(Path(path), skip_invalid)
            unread += skipped
        inputs, outputs = parse_types(types)
        free: tuple[str, ...] = ()
        if any(item.kind == "tokens" for item in (*inputs, *outputs)):  # the files make the vocabulary
            words = (w for found in lines.values() for _, fields in found for field in fields for w in field.split())
            free = tuple(dict.fromkeys(words))
        reader = FileTask(types, base, encoding, tolerance, tokens=free)
        read = {name: examples(reader, found, skip_invalid) for name, found in lines.items()}
        self.skipped = unread + [reason for _, reasons in read.values() for reason in reasons]
        every = [row for rows, _ in read.values() for row in rows]
        source_len = max((len(problem) for problem, _ in every), default=1)
        target_len = max((len(solution) for _, solution in every), default=1)
        self.file_task = FileTask(types, base, encoding, tolerance, source_len, target_len, free)
        self.sets = {name: padded(rows, self.file_task) for name, (rows, _) in read.items()}
        train = self.sets.pop("train", None)
        self.eval_size = None if eval_size is None else check_int("eval_size", eval_size, 1)
        epoch = max(count(train), batch_size) if train is not None and epoch_size is None else epoch_size or batch_size
        super().__init__(
            epoch_size=epoch, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed
        )
        self.train = None if train is None else self._without_held_out(train)
        if self.train is not None and count(self.train) < batch_size:
            raise ConfigError(
                f"the training file holds {count(self.train)} examples outside the evaluation files, fewer than "
                f"batch_size={batch_size}"
            )
        if self.skipped:
            rank_zero_warn(f"skipped {len(self.skipped)} malformed lines, first: {self.skipped[0]}")
        self.save_hyperparameters()

    def _without_held_out(self, train: Problems) -> Problems:
        clash = self.held_out.contains(self.task.keys(train))
        if clash.any():
            rank_zero_info(f"{int(clash.sum())} training lines are evaluation problems: left out of training")
        return take(train, ~clash)

    def build_task(self) -> FileTask:
        return self.file_task

    def build_eval_sets(self) -> dict[str, Problems]:
        return {name: take(problems, slice(0, self.eval_size)) for name, problems in self.sets.items()}

    def train_dataloader(self) -> StatefulDataLoader:
        if self.train is None:
            raise ConfigError("no train_file: this data only evaluates")
        world, rank = self._ranks()
        batches = self.epoch_size // self.batch_size
        stream = PoolStream(self.task, self.train, self.batch_size, batches // world * world, self.seed)
        return self._loader(stream, StreamSampler(batches, world, rank), self.num_workers)
