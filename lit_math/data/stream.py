"""The training stream: fresh batches keyed by (seed, epoch, global batch index), never a held-out problem.

Why a map-style dataset and a sampler rather than an `IterableDataset`: the sampler, in the main process,
hands each batch key to whichever dataloader worker is free, so no worker can repeat another's batch, the
batches a run sees do not depend on `num_workers`, and torchdata's `StatefulDataLoader` saves and restores the
sampler's position, so a run resumed mid-epoch continues instead of replaying.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from lit_math.errors import ConfigError
from lit_math.tasks import Problems, Task, count, take

MAX_RESAMPLING_ROUNDS = 1000


class HeldOut:
    """Keys of the evaluation problems. Membership: a 2^20-bit filter on the low bits of the key, then a binary
    search among the sorted keys for the few that pass it (the filter alone answers most draws at once)."""

    FILTER_BITS = 20

    def __init__(self, task: Task | None, problem_sets: list[Problems], keys: np.ndarray | None = None) -> None:
        parts = [task.keys(p) for p in problem_sets] if task is not None else []
        parts += [keys] if keys is not None else []
        self.keys = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
        self.mask = (1 << self.FILTER_BITS) - 1
        self.filter = np.zeros(1 << self.FILTER_BITS, dtype=bool)
        self.filter[self.keys & self.mask] = True

    @classmethod
    def union(cls, parts: list[HeldOut]) -> HeldOut:
        """Every problem any of `parts` holds out."""
        return cls(None, [], np.concatenate([part.keys for part in parts]))

    def __len__(self) -> int:
        return len(self.keys)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        found = self.filter[keys & self.mask]
        maybe = np.flatnonzero(found)
        if len(maybe):
            pos = np.minimum(np.searchsorted(self.keys, keys[maybe]), len(self.keys) - 1)
            found[maybe] = self.keys[pos] == keys[maybe]
        return found


def repeats(keys: np.ndarray) -> np.ndarray:
    """Which keys repeat an earlier one."""
    first = np.zeros(len(keys), dtype=bool)
    first[np.unique(keys, return_index=True)[1]] = True
    return ~first


def to_batch(task: Task, problems: Problems) -> dict[str, Any]:
    """Tensors the model consumes (`source`, `target`) plus the raw problems for scoring."""
    source, target = task.encode(problems)
    return {
        "source": torch.from_numpy(source),
        "target": torch.from_numpy(target),
        "problems": {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in problems.items()},
    }


class TrainingStream(Dataset):
    """Item `(epoch, index)` is a batch generated from its own random stream, without held-out problems."""

    def __init__(self, task: Task, batch_size: int, seed: int, held_out: HeldOut) -> None:
        self.task = task
        self.batch_size = batch_size
        self.seed = seed
        self.held_out = held_out

    def generator(self, epoch: int, index: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, epoch, index])))

    def problems(self, epoch: int, index: int) -> Problems:
        rng = self.generator(epoch, index)
        problems = self.task.sample(rng, self.batch_size)
        for _ in range(MAX_RESAMPLING_ROUNDS):
            keys = self.task.keys(problems)
            clash = self.held_out.contains(keys)
            if self.task.distinct_in_batch:
                clash |= repeats(keys)
            clash = np.flatnonzero(clash)
            if not len(clash):
                return problems
            fresh = self.task.sample(rng, len(clash))
            for name, values in problems.items():
                values[clash] = fresh[name]
        raise RuntimeError(
            f"after {MAX_RESAMPLING_ROUNDS} rounds, training still draws held-out (or repeated) problems: the "
            f"evaluation sets ({len(self.held_out)} problems) cover nearly all of the training distribution; make "
            "them smaller"
        )

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        return to_batch(self.task, self.problems(*key))


class _StreamPosition(Iterator[tuple[int, int]]):
    """The sampler's iterator; stateful so that `StatefulDataLoader` restores the epoch and position."""

    def __init__(self, sampler: StreamSampler, epoch: int, start: int = 0) -> None:
        self.sampler, self.epoch, self.next = sampler, epoch, start

    def __next__(self) -> tuple[int, int]:
        if self.next >= len(self.sampler):
            raise StopIteration
        key = (self.epoch, self.next * self.sampler.num_replicas + self.sampler.rank)
        self.next += 1
        return key

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "next": self.next}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.next = state["epoch"], state["next"]


class StreamSampler(DistributedSampler):
    """Keys of this rank's batches for the epoch: global batch indices rank, rank + R, rank + 2R, ...

    A `DistributedSampler` so that Lightning uses it as it is instead of wrapping it (it shards by itself, hence
    no `super().__init__`); every rank gets the same number of batches (the remainder of the epoch is dropped)
    so DDP ranks stay in step.
    """

    def __init__(self, batches_per_epoch: int, num_replicas: int, rank: int) -> None:
        if not 0 <= rank < num_replicas:
            raise ConfigError(f"rank must be in 0..{num_replicas - 1}, got {rank}")
        self.num_replicas, self.rank, self.epoch, self.shuffle, self.drop_last = num_replicas, rank, 0, False, True
        self.batches_per_rank = batches_per_epoch // num_replicas
        if self.batches_per_rank == 0:
            raise ConfigError(
                f"an epoch of {batches_per_epoch} batches cannot feed {num_replicas} ranks: raise epoch_size"
            )

    def __len__(self) -> int:
        return self.batches_per_rank

    def __iter__(self) -> _StreamPosition:
        return _StreamPosition(self, self.epoch)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


class EvaluationShard(Dataset):
    """This rank's share of an evaluation set (problems rank, rank + R, ...), cut into batches once.

    Sharding examples rather than batches gives every rank at least one batch whenever the set has at least
    one problem per rank, so every rank logs every set and the metrics' cross-rank reduction never waits.
    """

    def __init__(self, task: Task, problems: Problems, batch_size: int, world: int, rank: int) -> None:
        mine = take(problems, slice(rank, None, world))
        n = count(mine)
        self.batches = [to_batch(task, take(mine, slice(i, i + batch_size))) for i in range(0, n, batch_size)]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.batches[index]


class WholeShard(DistributedSampler):
    """Every batch of a dataset that is already this rank's shard, in order.

    A `DistributedSampler` only so that Lightning keeps it instead of adding its own, which would shard again
    and pad ranks with repeated examples (biasing accuracy).
    """

    def __init__(self, n_batches: int) -> None:  # deliberately not super().__init__: no dataset to shard
        self.n_batches, self.epoch, self.shuffle, self.drop_last = n_batches, 0, False, False

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n_batches))
