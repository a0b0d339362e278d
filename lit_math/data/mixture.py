"""Training on several distributions at once: whole batches drawn from member DataModules by weight.

The talk's comparisons are across training distributions: FWD + BWD corpora, two eigenvalue laws, natural GCD
outcomes plus a few uniform ones, a distribution primed with a small share of another. A mixture names its
members as `data:` is written for one family, and a weight each. Why whole batches rather than examples
mixed inside a batch: each member keeps its own stream (fresh draws, a corpus's passes, a finite pool, its
sequence widths), so every guarantee of a single family holds member by member (no repeats across ranks and
workers, resume mid-epoch), and the shares are exact: each epoch serves every member its rounded share of
the epoch's batches, in an order drawn from the seed and the epoch.
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import Dataset

from lit_math.data.datamodule import StreamingDataModule, data_from_spec, declare_knobs
from lit_math.data.stream import HeldOut
from lit_math.errors import ConfigError
from lit_math.tasks import Problems, Task

MIXTURE_ORDER = 23
"""Salt of the generator of each epoch's order of members (apart from the members' own streams)."""
SET_BY_MIXTURE = ("epoch_size", "batch_size", "num_workers", "seed")
"""Stream knobs the mixture sets for all its members (one loader serves them all)."""
MEMBER_NAME = re.compile(r"[A-Za-z0-9_-]+")


def batches_per_member(weights: list[float], batches: int) -> np.ndarray:
    """Each member's batches in an epoch of `batches`: its share rounded by largest remainder (they sum up)."""
    shares = np.asarray(weights, dtype=float) / sum(weights) * batches
    counts = np.floor(shares).astype(np.int64)
    counts[np.argsort(counts - shares, kind="stable")[: batches - counts.sum()]] += 1
    return counts


class MixtureStream(Dataset):
    """Item `(epoch, index)`: the next batch of the member that the epoch's order puts at `index`, marked with
    the member's number (`member`) so that what was served can be counted."""

    def __init__(self, streams: list[Dataset], counts: np.ndarray, seed: int) -> None:
        self.streams, self.counts, self.seed = streams, counts, seed
        self._epoch: tuple[int, np.ndarray, np.ndarray] | None = None

    def order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """For each batch of `epoch`, its member and its index in that member's stream."""
        if self._epoch is None or self._epoch[0] != epoch:
            rng = np.random.default_rng([self.seed, MIXTURE_ORDER, epoch])
            members = rng.permutation(np.repeat(np.arange(len(self.counts)), self.counts))
            local = np.empty(len(members), dtype=np.int64)
            for member in range(len(self.counts)):
                here = np.flatnonzero(members == member)
                local[here] = np.arange(len(here))
            self._epoch = (epoch, members, local)
        return self._epoch[1], self._epoch[2]

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        epoch, index = key
        members, local = self.order(epoch)
        member = int(members[index])
        batch = self.streams[member][(epoch, int(local[index]))]
        return {**batch, "member": torch.tensor(member)}


class MixtureDataModule(StreamingDataModule):
    """Batches drawn from several data of one family by weight: e.g. FWD and BWD corpora, two eigenvalue laws,
    natural GCD outcomes primed with a small share of uniform ones. The members must write the same vocabulary
    and sequence lengths (one network reads them all); each member's evaluation sets are evaluated under its
    name (``val/<member>/<set>``), and every member's evaluation problems are held out of every member's
    training."""

    members: dict[str, dict[str, Any]] | None = None
    """The member data by name, each written as ``data:`` is for one family: ``{class_path: ..., init_args:
    {...}}``. Their stream knobs (epoch_size, batch_size, num_workers, seed) are the mixture's."""
    weights: dict[str, float] | None = None
    """Share of the batches of each member (normalised to sum 1); default: equal shares."""

    without = ("train_size", "repeated_share", "eval_seed")  # a member's own (a pool, its evaluation seed)

    def check_knobs(self) -> None:
        if not isinstance(self.members, dict) or len(self.members) < 2:
            raise ConfigError(
                f"a mixture needs at least two members by name, got {self.members!r}: train a single family directly"
            )
        weights = self.weights if self.weights is not None else dict.fromkeys(self.members, 1.0)
        if set(weights) != set(self.members):
            raise ConfigError(f"weights {sorted(weights)} must name exactly the members {sorted(self.members)}")
        for name, weight in weights.items():
            if not (isinstance(weight, int | float) and math.isfinite(weight) and weight > 0):
                raise ConfigError(f"the weight of member {name!r} must be a positive number, got {weight!r}")
        self.member_names = list(self.members)
        self.counts = batches_per_member(
            [weights[name] for name in self.member_names], self.epoch_size // self.batch_size
        )
        starved = [name for name, n in zip(self.member_names, self.counts, strict=True) if n == 0]
        if starved:
            raise ConfigError(
                f"member(s) {starved} get no batch of an epoch of {self.epoch_size // self.batch_size}: raise "
                "epoch_size or their weight"
            )
        self.member_data = {
            name: self._member(name, spec, int(n))
            for (name, spec), n in zip(self.members.items(), self.counts, strict=True)
        }
        self._check_one_network()

    def _member(self, name: str, spec: Any, batches: int) -> StreamingDataModule:
        if not MEMBER_NAME.fullmatch(name):
            raise ConfigError(f"member name {name!r}: use letters, digits, '_' and '-' (it names metrics)")
        if not isinstance(spec, dict) or "class_path" not in spec:
            raise ConfigError(f"member {name!r} must be {{class_path: ..., init_args: {{...}}}}, got {spec!r}")
        init_args = dict(spec.get("init_args") or {})
        given = sorted(set(init_args) & set(SET_BY_MIXTURE))
        if given:
            raise ConfigError(f"member {name!r} sets {given}: set them on the mixture, which serves every member")
        seed = int(np.random.SeedSequence([self.seed, zlib.crc32(name.encode())]).generate_state(1)[0])
        own = {"epoch_size": batches * self.batch_size, "batch_size": self.batch_size, "seed": seed}
        try:
            data = data_from_spec({**spec, "init_args": {**init_args, **own}})
        except ConfigError as error:
            raise ConfigError(f"member {name!r}: {error}") from None
        if isinstance(data, MixtureDataModule):
            raise ConfigError(f"member {name!r} is itself a mixture: list its members in this one")
        return data

    def _check_one_network(self) -> None:
        def shape(task: Task) -> tuple[int, int, int]:
            return len(task.vocabulary), task.max_source_len, task.max_target_len

        first, *others = self.member_data.items()
        for name, data in others:
            if type(data.task) is not type(first[1].task):
                raise ConfigError(
                    f"members {first[0]!r} and {name!r} are different families ({first[1].task.family}, "
                    f"{data.task.family}): a mixture draws several distributions of one family, scored one way"
                )
            if data.task.vocabulary != first[1].task.vocabulary or shape(data.task) != shape(first[1].task):
                raise ConfigError(
                    f"members {first[0]!r} and {name!r} need different networks ({first[0]}: {shape(first[1].task)[0]} "
                    f"tokens, sequences of {shape(first[1].task)[1]} and {shape(first[1].task)[2]}; {name}: "
                    f"{shape(data.task)[0]}, {shape(data.task)[1]} and {shape(data.task)[2]}): give them the same "
                    "encoding settings (base, encoding, max_len, sizes), so that they write one vocabulary"
                )

    def build_task(self) -> Task:
        """The first member's task: the model's vocabulary and lengths (all members share them)."""
        return next(iter(self.member_data.values())).task

    def build_eval_sets(self) -> dict[str, Problems]:
        """Every set each member evaluates (a finite member's `train_pool` too), under the member's name."""
        return {f"{name}/{s}": p for name, data in self.member_data.items() for s, p in data.evaluated_sets.items()}

    @property
    def eval_tasks(self) -> dict[str, Task]:
        return {f"{name}/{s}": t for name, data in self.member_data.items() for s, t in data.eval_tasks.items()}

    @property
    def member_tasks(self) -> list[Task]:
        """Each member's task, by member number (the `member` of a training batch)."""
        return [data.task for data in self.member_data.values()]

    @property
    def held_out(self) -> HeldOut:
        """Every member's evaluation problems, each read by its member's task."""
        if self._held_out is None:
            self._held_out = HeldOut.union([data.held_out for data in self.member_data.values()])
        return self._held_out

    def prepare_data(self) -> None:
        for data in self.member_data.values():
            data.prepare_data()

    def setup(self, stage: str) -> None:
        held_out = self.held_out
        for name, data in self.member_data.items():
            data.exclude(held_out)
            try:
                data.setup(stage)
            except ConfigError as error:
                raise ConfigError(f"member {name!r}: {error}") from None
        if stage != "fit":
            return
        batches = self.epoch_size // self.batch_size
        shares = ", ".join(
            f"{name} {n / batches:.1%} ({n} batches)" for name, n in zip(self.member_names, self.counts, strict=True)
        )
        rank_zero_info(f"mixture: each epoch of {batches} batches serves {shares}")
        ends = {
            name: (epochs, epochs * n * self.batch_size)
            for (name, data), n in zip(self.member_data.items(), self.counts, strict=True)
            if (epochs := data.available_epochs(int(n))) is not None
        }
        if ends:  # the first member to run out ends the mixture
            first = min(ends, key=ends.__getitem__)
            self.stop_when_exhausted(*ends[first][:1], f"member {first!r} of the mixture", ends[first][1])

    def training_stream(self, batches: int, world: int) -> Dataset:
        streams = [
            data.training_stream(int(n), 1) for data, n in zip(self.member_data.values(), self.counts, strict=True)
        ]
        return MixtureStream(streams, self.counts, self.seed)


declare_knobs(MixtureDataModule)  # its knobs, as a family's, but it is no family: not in FAMILIES
