"""Training and evaluating on your own data files (Int2Int's format, typed): see `lit_math.tasks.files`."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.pool import PoolStream
from lit_math.data.stream import StreamSampler
from lit_math.encoding import SPECIAL_TOKENS
from lit_math.errors import ConfigError, check_int
from lit_math.tasks import Problems, count, take
from lit_math.tasks.base import padded_rows
from lit_math.tasks.files import FileFormat, FileTask, parse_types

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


@dataclass
class ReadFiles:
    """What the files hold once read: the task they make (vocabulary, lengths), the sets, the lines skipped."""

    task: FileTask
    sets: dict[str, Problems]
    skipped: list[str]


class FileDataModule(StreamingDataModule):
    """Your own examples, one per line (input tokens TAB output tokens), with declared types.

    The training file is a fixed set, seen pass after pass in a new order (the finite regime); lines whose
    problem is in an evaluation file are left out of training and counted. Files are read on first use (the
    model's vocabulary, at the latest in `setup`), not when the module is made.
    """

    settings = FileFormat
    without = ("train_size", "repeated_share", "eval_seed")  # files are read, not drawn: no seed of theirs
    stream_defaults = {"batch_size": 128}  # noqa: RUF012 (read only)
    train_file: str | None = None
    """The training examples (None: evaluation only)."""
    eval_files: dict[str, str] | None = None
    """Evaluation sets by name, e.g. ``{valid: data/test.txt}``."""
    skip_invalid: bool = False
    """Skip malformed lines (counted and reported) instead of stopping at the first one."""
    eval_size: int | None = None
    """At most this many examples of each evaluation file (None: all)."""
    epoch_size: int | None = None
    """Training examples per epoch (None: one pass over the training file)."""

    def check_knobs(self) -> None:
        if not self.eval_files:
            raise ConfigError("eval_files names at least one evaluation file, e.g. {valid: data/test.txt}")
        if self.eval_size is not None:
            check_int("eval_size", self.eval_size, 1)
        FileTask(**self._format_knobs())  # checks the format's knobs, reads no file

    def _format_knobs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(FileFormat)}

    @functools.cached_property
    def read(self) -> ReadFiles:
        """Every file, read and tokenised once."""
        files = {"train": self.train_file, **self.eval_files} if self.train_file else dict(self.eval_files)
        lines, unread = {}, []
        for name, path in files.items():
            lines[name], skipped = read_lines(Path(path), self.skip_invalid)
            unread += skipped
        inputs, outputs = parse_types(self.types)
        free: tuple[str, ...] = ()
        if any(item.kind == "tokens" for item in (*inputs, *outputs)):  # the files make the vocabulary
            words = (w for found in lines.values() for _, fields in found for field in fields for w in field.split())
            free = tuple(dict.fromkeys(words))
        format_knobs = self._format_knobs()
        reader = FileTask(**format_knobs, tokens=free)
        read = {name: examples(reader, found, self.skip_invalid) for name, found in lines.items()}
        every = [row for rows, _ in read.values() for row in rows]
        task = FileTask(
            **format_knobs,
            source_len=max((len(problem) for problem, _ in every), default=1),
            target_len=max((len(solution) for _, solution in every), default=1),
            tokens=free,
        )
        sets = {name: padded(rows, task) for name, (rows, _) in read.items()}
        skipped = unread + [reason for _, reasons in read.values() for reason in reasons]
        if skipped:
            rank_zero_warn(f"skipped {len(skipped)} malformed lines, first: {skipped[0]}")
        if self.epoch_size is None:  # one pass over the training file
            self.epoch_size = max(count(sets["train"]), self.batch_size) if "train" in sets else self.batch_size
        return ReadFiles(task, sets, skipped)

    @property
    def skipped(self) -> list[str]:
        return self.read.skipped

    @functools.cached_property
    def train(self) -> Problems | None:
        """The training examples, without those of the evaluation files."""
        train = self.read.sets.get("train")
        if train is None:
            return None
        clash = self.held_out.contains(self.task.keys(train))
        if clash.any():
            rank_zero_info(f"{int(clash.sum())} training lines are evaluation problems: left out of training")
        train = take(train, ~clash)
        if count(train) < self.batch_size:
            raise ConfigError(
                f"the training file holds {count(train)} examples outside the evaluation files, fewer than "
                f"batch_size={self.batch_size}"
            )
        return train

    def build_task(self) -> FileTask:
        return self.read.task

    def build_eval_sets(self) -> dict[str, Problems]:
        return {
            name: take(problems, slice(0, self.eval_size))
            for name, problems in self.read.sets.items()
            if name != "train"
        }

    def setup(self, stage: str) -> None:
        """Reads the files (once) before any loader is made."""
        self.train  # noqa: B018

    def train_dataloader(self) -> StatefulDataLoader:
        if self.train is None:
            raise ConfigError("no train_file: this data only evaluates")
        world, rank = self._ranks()
        batches = self.epoch_size // self.batch_size
        stream = PoolStream(self.task, self.train, self.batch_size, batches // world * world, self.seed)
        return self._loader(stream, StreamSampler(batches, world, rank), self.num_workers)


def padded(rows: list[tuple[list[int], list[int]]], task: FileTask) -> Problems:
    return {
        "problem": padded_rows([problem for problem, _ in rows], task.source_len),
        "solution": padded_rows([solution for _, solution in rows], task.target_len),
    }
