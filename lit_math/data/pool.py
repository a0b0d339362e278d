"""The finite-data regime: a fixed training set, drawn once and seen again and again.

Grokking in its original sense (Power et al. 2022) and the repetition studies (Charton & Kempe 2024, "Emergent
properties with repeated examples") need what the fresh stream never does: the same examples many times. A
pool of `train_size` distinct problems is drawn once from the seed, apart from every evaluation set; the
stream then walks through it in passes, each pass in a new order, whatever the epoch size, the number of
ranks or workers (positions come from the global batch index, as for the fresh stream). With
`repeated_share` below 1 ("two-class" sampling), each batch takes that share from the pool and the rest
fresh from the generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import Dataset

from lit_math.data.stream import HeldOut, TrainingStream, to_batch
from lit_math.errors import ConfigError
from lit_math.tasks import Problems, Task, count, take

POOL_DRAWS = 17
"""Salt of the pool's generator (kept apart from the stream's (seed, epoch, index) generators)."""
POOL_ORDERS = 19
MAX_POOL_ROUNDS = 1000


def draw_pool(task: Task, size: int, seed: int, held_out: HeldOut) -> Problems:
    """The training pool: `size` distinct problems, none held out, drawn from `seed` alone."""
    return distinct_problems(task, size, np.random.default_rng([seed, POOL_DRAWS]), held_out)


def distinct_problems(task: Task, size: int, rng: np.random.Generator, held_out: HeldOut) -> Problems:
    """`size` distinct problems, none held out; a ConfigError when the task cannot have that many."""
    parts: list[Problems] = []
    seen = np.empty(0, dtype=np.int64)
    for _ in range(MAX_POOL_ROUNDS):
        missing = size - len(seen)
        if missing == 0:
            return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        drawn = task.sample(rng, max(missing, 64))
        keys = task.keys(drawn)
        _, first = np.unique(keys, return_index=True)
        new = np.zeros(len(keys), dtype=bool)
        new[np.sort(first)] = True
        new &= ~held_out.contains(keys) & ~np.isin(keys, seen)
        keep = np.flatnonzero(new)[:missing]
        parts.append(take(drawn, keep))
        seen = np.concatenate([seen, keys[keep]])
    raise ConfigError(
        f"after {MAX_POOL_ROUNDS} rounds, {len(seen)} distinct problems were found, short of the {size} asked: "
        f"the task has few more problems than that outside the {len(held_out)} held out; ask for fewer"
    )


class Passes:
    """Pass after pass over `size` rows, each pass in its own order (from `key` and the pass's number), so that
    position k of the whole walk is a pure function of k: any batch can be served by any worker, after a resume.
    With `first_plain`, pass 0's order is drawn from `key` alone (the order corpora were streamed in before
    they could be streamed more than once)."""

    def __init__(self, size: int, key: list[int], first_plain: bool = False) -> None:
        self.size, self.key, self.first_plain = size, key, first_plain
        self._orders: dict[int, np.ndarray] = {}

    def order(self, one_pass: int) -> np.ndarray:
        """The rows' order in pass `one_pass` (the two latest kept: a batch spans at most two passes)."""
        if one_pass not in self._orders:
            key = self.key if one_pass == 0 and self.first_plain else [*self.key, one_pass]
            self._orders = {k: v for k, v in self._orders.items() if k == one_pass - 1}
            self._orders[one_pass] = np.random.default_rng(key).permutation(self.size)
        return self._orders[one_pass]

    def rows(self, start: int, n: int) -> np.ndarray:
        """The rows at positions start .. start + n - 1 of the walk."""
        positions = start + np.arange(n)
        passes = positions // self.size
        rows = np.empty(n, dtype=np.int64)
        for one_pass in np.unique(passes):
            here = passes == one_pass
            rows[here] = self.order(int(one_pass))[positions[here] % self.size]
        return rows


class PoolStream(Dataset):
    """Item `(epoch, index)`: `per_batch` problems at the next positions of the pool's passes, then the
    fresh stream's batch when there is one (two-class sampling)."""

    def __init__(
        self,
        task: Task,
        pool: Problems,
        per_batch: int,
        batches_per_epoch: int,
        seed: int,
        fresh: TrainingStream | None = None,
    ) -> None:
        self.task, self.pool = task, pool
        self.per_batch, self.batches_per_epoch, self.fresh = per_batch, batches_per_epoch, fresh
        self.passes = Passes(count(pool), [seed, POOL_ORDERS])

    def rows(self, epoch: int, index: int) -> np.ndarray:
        """Pool rows of batch `index` of `epoch`: the positions after all earlier batches' ones."""
        return self.passes.rows((epoch * self.batches_per_epoch + index) * self.per_batch, self.per_batch)

    def problems(self, epoch: int, index: int) -> Problems:
        repeated = take(self.pool, self.rows(epoch, index))
        if self.fresh is None:
            return repeated
        fresh = self.fresh.problems(epoch, index)
        return {name: np.concatenate([repeated[name], fresh[name]]) for name in repeated}

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        return to_batch(self.task, self.problems(*key))
