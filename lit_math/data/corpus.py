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
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset
from tqdm import tqdm

from lit_math.data.published import PublishedLines, read_published
from lit_math.data.stream import HeldOut, TrainingStream, repeats, to_batch
from lit_math.encoding.sequences import take_rows
from lit_math.errors import ConfigError, check_int
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
@dataclass
class _ShardJob:
    task_config: dict[str, Any]
    seed: int
    shard_size: int
    held_out: HeldOut
    directory: Path


_job: _ShardJob | None = None


def _start_worker(job: _ShardJob) -> None:
    global _job
    _job = job


def _write_shard(index: int) -> dict[str, int]:
    """Generate shard `index` and publish it atomically; returns its rejection counts."""
    job = _job
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


def generate(
    data: Any, n: int, directory: Path, workers: int = 1, shard_size: int = 1000, progress: bool = True
) -> dict[str, Any]:
    """Write (or finish) a corpus of `n` training examples of `data`'s task (any family), never a held-out one.

    `n` is rounded up to whole shards. Rerunning with the same data settings continues where it stopped; a
    larger `n` adds shards, a smaller one finishes what the folder already holds; other settings in the same
    directory are refused. Problems drawn in two shards are both written; reading removes the repeats.
    """
    check_int("n", n, 1)
    check_int("workers", workers, 1)
    check_int("shard_size", shard_size, 1)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--out {directory} is a file: give a new folder, or a corpus folder to continue")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MANIFEST).is_file():
        raise ConfigError(f"--out {directory} holds other files and no {MANIFEST}: give a new or a corpus folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"--out {directory}: cannot make the folder: {error.strerror}") from None
    spec = data.state_dict()
    manifest = {"format": FORMAT, "data": spec, "task": data.task.config(), "shard_size": shard_size}
    existing = read_manifest(directory)
    if existing is not None:
        mine = {k: manifest[k] for k in ("data", "task", "shard_size")}
        theirs = {k: existing.get(k) for k in mine}
        if json.loads(json.dumps(mine)) != theirs:
            raise ConfigError(
                f"{directory} holds a corpus of other settings ({theirs}); give another --out, or the same settings"
            )
    shards = max(math.ceil(n / shard_size), existing.get("shards", 0) if existing else 0)  # never fewer
    manifest["shards"] = shards
    write_atomically(directory / MANIFEST, json.dumps(manifest, indent=1))
    todo = [i for i in range(shards) if not shard_path(directory, i).is_file()]
    held_out = data.held_out
    job = _ShardJob(data.task.config(), data.seed, shard_size, held_out, directory)
    bar = tqdm(total=shards, initial=shards - len(todo), unit="shard", disable=not progress, desc=str(directory))
    if workers == 1 or len(todo) <= 1:
        _start_worker(job)
        for index in todo:
            _write_shard(index)
            bar.update()
    else:
        with multiprocessing.get_context("fork").Pool(workers, _start_worker, (job,)) as pool:
            for _ in pool.imap_unordered(_write_shard, todo):
                bar.update()
    bar.close()
    return summary(directory)


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
    """Item `(epoch, index)` is batch `epoch * batches_per_epoch + index` of one shuffled pass over a corpus."""

    def __init__(self, task: SymbolicTask, corpus: Corpus, batch_size: int, batches_per_epoch: int, seed: int) -> None:
        self.task, self.corpus, self.batch_size, self.batches_per_epoch = task, corpus, batch_size, batches_per_epoch
        self.order = np.random.default_rng([seed, CORPUS_EPOCH]).permutation(len(corpus))

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        epoch, index = key
        start = (epoch * self.batches_per_epoch + index) * self.batch_size
        rows = self.order[start : start + self.batch_size]
        if len(rows) < self.batch_size:
            raise IndexError(f"batch {key} is past the end of {self.corpus.directory}: the corpus is exhausted")
        problems, solutions = self.corpus.rows(rows)
        width = self.task.max_len
        return to_batch(
            self.task, {"problem": padded_rows(problems, width, IDS), "solution": padded_rows(solutions, width, IDS)}
        )
