"""Generated corpora: written once in parallel shards (`lit-math generate`), then streamed once by training.

Why a home-made format rather than litdata or torchdata: a corpus here is a few million short token lines;
plain text shards (one example per line, problem tokens TAB solution tokens, the format of Int2Int) are
readable, greppable and portable to other codebases, and the whole corpus fits in memory as flat id arrays,
so reading needs no streaming library; sharding across ranks, workers and resume is the training stream's
sampler, which already does it for generated batches. litdata's optimize/StreamingDataset would add a
dependency and a binary format for no speed we need (see BENCHMARKS.md: reading is far faster than training).

A shard is a unit of work with its own random stream: rerunning `generate` skips finished shards (a shard's
text appears only complete, by an atomic rename), so an interrupted job resumes and never duplicates.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from lit_math.data.executors import DaskExecutor, LocalExecutor
from lit_math.data.pool import Passes
from lit_math.data.progress import Progress
from lit_math.data.published import PublishedLines, read_published
from lit_math.data.stream import HeldOut, TrainingStream, repeats, to_batch
from lit_math.encoding.sequences import take_rows
from lit_math.errors import ConfigError, check_int, shown
from lit_math.locks import FileLock, is_lock, live_holder
from lit_math.shards import (
    FORMAT,
    MANIFEST,
    read_manifest,
    read_pairs,
    shard_path,
    summary,
    write_atomically,
)
from lit_math.tasks import Task, build_task
from lit_math.tasks.base import padded_rows
from lit_math.tasks.symbolic import IDS, SymbolicTask, token_key

CORPUS_EPOCH = 2**32 - 1
"""Shards draw from an epoch number that no training run reaches, so a corpus is not a run's first epoch."""


# --- writing -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """Part `index` of `count` (0-based, as SLURM's $SLURM_ARRAY_TASK_ID): the shards k with k % count == index.

    Jobs given the parts 0..count-1 of one corpus write disjoint shards, and together all of them."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.index, int) and isinstance(self.count, int) and 0 <= self.index < self.count):
            raise _not_a_part(f"{self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> Part:
        """`I/N` as typed (ASCII digits)."""
        match = re.fullmatch(r"([0-9]{1,9})/([0-9]{1,9})", text)
        if not match:
            raise _not_a_part(text)
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, shard: int) -> bool:
        return shard % self.count == self.index

    @property
    def lock(self) -> str:
        """The name of the lock its job holds in the corpus folder."""
        return f".part-{self.index}-of-{self.count}.lock"

    @classmethod
    def of_lock(cls, name: str) -> Part | None:
        match = re.fullmatch(r"\.part-([0-9]+)-of-([0-9]+)\.lock", name)
        return cls(int(match[1]), int(match[2])) if match else None


def _not_a_part(text: str) -> ConfigError:
    return ConfigError(
        f"{shown(text)} is not I/N with 0 <= I < N: parts are numbered from 0, as $SLURM_ARRAY_TASK_ID "
        "(--part 0/4 .. --part 3/4 split a corpus in four)"
    )


WHOLE = Part()
MANIFEST_LOCK = ".manifest.lock"
MANIFEST_WAIT_S = 60.0
"""Seconds a job waits for another one to finish updating the manifest (which takes milliseconds)."""


class ShardsFailed(RuntimeError):
    """Some shards of a run could not be written; the others were, and a rerun writes the missing ones."""


@dataclass(frozen=True)
class ShardJob:
    """All a process needs to write any shard of a corpus (sent once to each process that writes shards)."""

    task_config: dict[str, Any]
    seed: int
    shard_size: int
    held_out: HeldOut
    directory: Path


def write_shard(job: ShardJob, index: int) -> dict[str, int]:
    """Generate shard `index` and publish it atomically; returns its statistics (examples, seconds, rejections).

    The one way a shard is written, whatever runs it: its content depends only on the job and the index."""
    task = build_task(job.task_config)
    stream = TrainingStream(task, job.shard_size, job.seed, job.held_out)
    started = time.perf_counter()
    problems = stream.problems(CORPUS_EPOCH, index)
    source, target = task.encode(problems)
    words = task.vocabulary.words
    lines = [f"{' '.join(words(s))}\t{' '.join(words(t))}\n" for s, t in zip(source, target, strict=True)]
    rejected = problems.get("rejected", np.zeros((1, 0))).sum(axis=0).tolist()
    stats = {"examples": len(lines), "seconds": time.perf_counter() - started}
    stats.update({kind: int(c) for kind, c in zip(task.rejection_kinds, rejected, strict=True)})
    path = shard_path(job.directory, index)
    write_atomically(path.with_suffix(".json"), json.dumps(stats))
    write_atomically(path, "".join(lines))  # last: a shard exists only complete, with its statistics
    return stats


def shards_left(directory: Path, shards: int, part: Part = WHOLE) -> list[int]:
    """The shards of `part` not yet written, among the corpus's first `shards`."""
    return [i for i in range(shards) if part.owns(i) and not shard_path(directory, i).is_file()]


def generate(
    data: Any,
    n: int,
    directory: Path,
    workers: int = 1,
    shard_size: int = 1000,
    progress: bool = True,
    part: Part = WHOLE,
    executor: LocalExecutor | DaskExecutor | None = None,
) -> dict[str, Any]:
    """Write (or finish) a corpus of `n` training examples of `data`'s task (any family), never a held-out one.

    `n` is rounded up to whole shards. Rerunning with the same data settings continues where it stopped; a
    larger `n` adds shards, a smaller one finishes what the folder already holds; other settings in the same
    directory are refused. Problems drawn in two shards are both written; reading removes the repeats.
    Only the shards of `part` are written, by `executor` (default: `workers` processes here); a part is
    written by one job at a time (a second one is refused), and so is a corpus by one split at a time.
    Raises ShardsFailed when some shards could not be written (the others are).
    """
    check_int("n", n, 1)
    check_int("workers", workers, 1)
    check_int("shard_size", shard_size, 1)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--out {directory} is a file: give a new folder, or a corpus folder to continue")
    with executor or LocalExecutor(workers) as runner:  # a cluster is reached before anything is written
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"--out {directory}: cannot make the folder: {error.strerror}") from None
        with FileLock(directory / part.lock, f"part {part} of the corpus {directory}"):
            _refuse_another_split(directory, part)
            shards = _agree_on_manifest(data, n, directory, shard_size)
            todo = shards_left(directory, shards, part)
            # absolute: a cluster's workers run elsewhere (the folder must have the same path on every node)
            job = ShardJob(data.task.config(), data.seed, shard_size, data.held_out, directory.resolve())
            label = f"{directory}" + (f" part {part}" if part.count > 1 else "")
            owned = sum(part.owns(i) for i in range(shards))
            report = Progress(label, owned, owned - len(todo)) if progress else None
            failures = []
            for outcome in runner.run(write_shard, job, todo):
                if outcome.error is not None:
                    failures.append(outcome)
                if report is not None:
                    report.update(outcome.value)
            if report is not None:
                report.close()
    if failures:
        first = min(failures, key=lambda outcome: outcome.item)
        raise ShardsFailed(
            f"{len(failures)} of the {len(todo)} shards of this run failed (first: {shard_path(directory, first.item)}"
            f": {first.error}); the others are written: run the same command again to write the missing ones"
        )
    return summary(directory)


def _refuse_another_split(directory: Path, part: Part) -> None:
    """Jobs splitting one corpus in different numbers of parts would write some shards twice."""
    for lock in directory.glob(".part-*.lock"):
        theirs = Part.of_lock(lock.name)
        if theirs is not None and theirs.count != part.count and (holder := live_holder(lock)) is not None:
            raise ConfigError(
                f"part {theirs} of the corpus {directory} is being written by {holder}; it cannot be written as "
                f"part {part} at the same time: give every job of one corpus the same N in --part I/N"
            )


def _agree_on_manifest(data: Any, n: int, directory: Path, shard_size: int) -> int:
    """Check the folder holds this corpus (or nothing yet), record the shard count, and return it.

    Under a lock: jobs starting together read, check and write the manifest one at a time, so the count is
    the largest any of them asked for and no two settings ever share a folder."""
    with FileLock(directory / MANIFEST_LOCK, f"the manifest of {directory}", wait=MANIFEST_WAIT_S):
        existing = read_manifest(directory)
        if existing is None and any(not is_lock(path.name) for path in directory.iterdir()):
            raise ConfigError(f"--out {directory} holds other files and no {MANIFEST}: give a new or a corpus folder")
        manifest = {"format": FORMAT, "data": data.state_dict(), "task": data.task.config(), "shard_size": shard_size}
        if existing is not None:
            mine = {k: manifest[k] for k in ("data", "task", "shard_size")}
            theirs = {k: existing.get(k) for k in mine}
            if json.loads(json.dumps(mine)) != theirs:
                raise ConfigError(
                    f"{directory} holds a corpus of other settings ({theirs}); give another --out, or the same settings"
                )
        manifest["shards"] = max(math.ceil(n / shard_size), existing.get("shards", 0) if existing else 0)  # never fewer
        if json.loads(json.dumps(manifest)) != existing:
            write_atomically(directory / MANIFEST, json.dumps(manifest, indent=1))
        return manifest["shards"]


# --- reading -----------------------------------------------------------------------------------------
def same_distribution(written: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a corpus written for task `written` is data of task `wanted`: everything equal but the time
    limits, and a `max_len` no larger than wanted."""
    loose = {"seconds", "max_len"}
    equal = all(written.get(k) == wanted.get(k) for k in (set(written) | set(wanted)) - loose)
    return equal and written.get("max_len", 0) <= wanted.get("max_len", 0)


class Corpus:
    """A finished corpus as flat token-id arrays, without duplicate problems and without held-out ones: one
    written by `lit-math generate` (a folder with a manifest), or one published by Lample & Charton (2020) (a
    file or a folder of `.train` files, read by `lit_math.data.published`)."""

    def __init__(self, directory: str | Path, task: Task, held_out: HeldOut) -> None:
        self.directory = Path(directory)
        manifest = read_manifest(self.directory) if self.directory.is_dir() else None
        self.published: PublishedLines | None = None
        if manifest is None:
            self.published = read_published(self.directory, task)
            lines = self.published
            problems, problem_offsets = lines.problems, lines.problem_offsets
            solutions, solution_offsets = lines.solutions, lines.solution_offsets
            self.stats: dict[str, Any] = {}
        else:
            if not same_distribution(manifest["task"], task.config()):
                raise ConfigError(
                    f"the corpus {self.directory} was written for task {manifest['task']}, not the data's task "
                    f"{task.config()}: train with the settings it was generated with (only time limits and a "
                    "larger max_len may differ)"
                )
            problems, problem_offsets, solutions, solution_offsets = _read_ours(self.directory, task)
            self.stats = summary(self.directory)
        self.lines = len(problem_offsets) - 1
        keys = np.array([token_key(problems[a:b]) for a, b in itertools.pairwise(problem_offsets)], dtype=np.int64)
        first = ~repeats(keys)
        self.duplicates = int((~first).sum())
        held = held_out.contains(keys) & first
        self.held_out = int(held.sum())
        kept = first & ~held  # in file order: the first occurrence of each problem
        self.problems, self.problem_offsets = take_rows(problems, problem_offsets, kept)
        self.solutions, self.solution_offsets = take_rows(solutions, solution_offsets, kept)

    def __len__(self) -> int:
        return len(self.problem_offsets) - 1

    def rows(self, index: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Problems and solutions of examples `index`, as id arrays."""
        p, s = self.problems, self.solutions
        po, so = self.problem_offsets, self.solution_offsets
        return [p[po[i] : po[i + 1]] for i in index], [s[so[i] : so[i + 1]] for i in index]

    def describe(self) -> str:
        removed = f"{self.duplicates} duplicate and {self.held_out} held-out problems removed"
        if self.published is not None:
            origin = f"read from {self.published.lines} published lines, {self.published.describe()}"
        else:
            counts = {k: v for k, v in self.stats.items() if k not in ("shards", "of", "examples", "seconds")}
            origin = f"generation rejected { {kind: int(count) for kind, count in counts.items() if count} }"
        return f"corpus {self.directory}: {len(self)} examples ({self.lines} lines, {removed}); {origin}"


def _read_ours(directory: Path, task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lines of a corpus written by `lit-math generate`, as flat id arrays with offsets."""
    ids = {token: i for i, token in enumerate(task.vocabulary.tokens)}
    problems, solutions = [], []
    for where, problem, solution in read_pairs(directory):
        try:
            problems.append(np.array([ids[t] for t in problem], dtype=IDS))
            solutions.append(np.array([ids[t] for t in solution], dtype=IDS))
        except KeyError as error:
            raise ConfigError(f"{where}: unknown token {error}") from None
    return (*_flat(problems), *_flat(solutions))


def _flat(rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    return (np.concatenate(rows) if rows else np.empty(0, dtype=IDS)), offsets


class CorpusStream(Dataset):
    """Item `(epoch, index)` is batch `epoch * batches_per_epoch + index` of `passes` shuffled passes over a
    corpus, each pass in its own order (a batch may span two passes)."""

    def __init__(
        self, task: SymbolicTask, corpus: Corpus, batch_size: int, batches_per_epoch: int, seed: int, passes: int = 1
    ) -> None:
        self.task, self.corpus, self.batch_size, self.batches_per_epoch = task, corpus, batch_size, batches_per_epoch
        self.end = passes * len(corpus)
        self.passes = Passes(len(corpus), [seed, CORPUS_EPOCH], first_plain=True)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        epoch, index = key
        start = (epoch * self.batches_per_epoch + index) * self.batch_size
        if start + self.batch_size > self.end:
            raise IndexError(f"batch {key} is past the end of {self.corpus.directory}: the corpus is exhausted")
        rows = self.passes.rows(start, self.batch_size)
        problems, solutions = self.corpus.rows(rows)
        width = self.task.max_len
        return to_batch(
            self.task, {"problem": padded_rows(problems, width, IDS), "solution": padded_rows(solutions, width, IDS)}
        )
