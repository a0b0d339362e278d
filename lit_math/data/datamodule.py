"""What every family's DataModule shares: the training stream, the fixed evaluation sets, the loaders."""

from __future__ import annotations

import importlib
import zlib
from abc import abstractmethod
from typing import Any

import lightning as L
import numpy as np
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import Dataset
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_math.data.pool import PoolStream, draw_pool
from lit_math.data.stream import EvaluationShard, HeldOut, StreamSampler, TrainingStream, WholeShard
from lit_math.errors import ConfigError, check_int
from lit_math.tasks import Problems, Task, count, take


class StreamingDataModule(L.LightningDataModule):
    """Fresh training batches every epoch; evaluation sets built once from their own seed and held out.

    Subclasses build the task and the named evaluation sets; everything about streams lives here. The
    evaluation sets serve validation, test and predict alike (the literature's fixed test sets).
    """

    def __init__(
        self,
        *,
        epoch_size: int,
        batch_size: int,
        num_workers: int,
        seed: int,
        eval_seed: int,
        train_size: int | None = None,
        repeated_share: float = 1.0,
    ) -> None:
        super().__init__()
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.epoch_size = check_int(f"epoch_size (at least batch_size={batch_size})", epoch_size, batch_size)
        self.num_workers = check_int("num_workers", num_workers, 0)
        self.seed = check_int("seed", seed, 0)
        self.eval_seed = check_int("eval_seed", eval_seed, 0)
        self.train_size = None if train_size is None else check_int("train_size", train_size, 1)
        if not 0 < repeated_share <= 1 or (repeated_share < 1 and train_size is None):
            raise ConfigError(f"repeated_share must be in (0, 1], below 1 only with train_size; got {repeated_share}")
        self.repeated_share = repeated_share
        if repeated_share < 1 and not 1 <= round(repeated_share * batch_size) < batch_size:
            raise ConfigError(
                f"repeated_share={repeated_share} of a batch of {batch_size} is {round(repeated_share * batch_size)} "
                "problems: a mixed batch needs at least one repeated and one fresh problem"
            )
        self.task = self.build_task()
        self._eval_problems: dict[str, Problems] | None = None
        self._pool: Problems | None = None
        self._held_out: HeldOut | None = None

    @abstractmethod
    def build_task(self) -> Task:
        """The family's task, configured from this module's knobs."""

    @abstractmethod
    def build_eval_sets(self) -> dict[str, Problems]:
        """The named evaluation sets, each drawn from `eval_rng(name)`."""

    def eval_rng(self, name: str) -> np.random.Generator:
        """The generator of evaluation set `name`: its problems depend on `eval_seed` and its own knobs only."""
        return np.random.default_rng([self.eval_seed, zlib.crc32(name.encode())])

    @property
    def task_config(self) -> dict[str, Any]:
        """The task's configuration; the CLI links it to the model so both agree on the vocabulary."""
        return self.task.config()

    @property
    def eval_problems(self) -> dict[str, Problems]:
        if self._eval_problems is None:
            self._eval_problems = self.build_eval_sets()
        return self._eval_problems

    @property
    def held_out(self) -> HeldOut:
        """The evaluation sets' problems, which training never yields (built once)."""
        if self._held_out is None:
            self._held_out = HeldOut(self.task, list(self.eval_problems.values()))
        return self._held_out

    @property
    def evaluated_sets(self) -> dict[str, Problems]:
        """What validation scores: the held-out evaluation sets and, in the finite regime, `train_pool`, the
        first problems of the pool (as many as the first set): memorisation next to generalisation."""
        sets = dict(self.eval_problems)
        if self.train_size is not None:
            first = count(next(iter(sets.values())))
            sets["train_pool"] = take(self.pool, slice(0, first))
        return sets

    @property
    def eval_set_names(self) -> list[str]:
        return list(self.evaluated_sets)

    def state_dict(self) -> dict[str, Any]:
        """Saved in checkpoints, so `lit-math validate/test/predict --ckpt_path` can rebuild this data alone."""
        cls = type(self)
        knobs = {name: value for name, value in self.hparams.items() if not name.startswith("_")}  # no CLI notes
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": knobs}

    def _ranks(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    @staticmethod
    def _loader(dataset: Any, sampler: Any, num_workers: int = 0) -> StatefulDataLoader:
        return StatefulDataLoader(
            dataset, batch_size=None, sampler=sampler, num_workers=num_workers, persistent_workers=num_workers > 0
        )

    def train_dataloader(self) -> StatefulDataLoader:
        world, rank = self._ranks()
        held_out = self.held_out
        batches = self.epoch_size // self.batch_size
        self.check_problem_space(len(held_out))
        stream: Dataset
        if self.train_size is None:
            stream = TrainingStream(self.task, self.batch_size, self.seed, held_out)
        else:
            repeated = round(self.repeated_share * self.batch_size)
            fresh = None if repeated == self.batch_size else TrainingStream(
                self.task, self.batch_size - repeated, self.seed, held_out
            )  # fmt: skip
            served = batches // world * world  # the sampler drops the rest: pool positions follow what is served
            stream = PoolStream(self.task, self.pool, repeated, served, self.seed, fresh)
            rank_zero_info(
                f"finite regime: a pool of {self.train_size:,} problems, {repeated} per batch of {self.batch_size}: "
                f"each seen about every {self.train_size / (repeated * batches):.3g} epochs"
            )
        return self._loader(stream, StreamSampler(batches, world, rank), self.num_workers)

    @property
    def pool(self) -> Problems:
        """The fixed training set of the finite regime (`train_size` distinct problems, none held out)."""
        if self.train_size is None:
            raise ConfigError("this data has no pool: set train_size for the finite regime")
        if self._pool is None:
            self._pool = draw_pool(self.task, self.train_size, self.seed, self.held_out)
        return self._pool

    def check_problem_space(self, held_out: int) -> None:
        """A task with few problems cannot feed an epoch of fresh ones (said at start-up) or a pool larger than
        it (an error)."""
        space = self.task.problem_space
        if space is None:
            return
        available = space - held_out
        if available <= 0:
            raise ConfigError(f"the evaluation sets hold all {space:,} problems of the task: none is left to train on")
        if self.train_size is None and self.epoch_size > available:
            rank_zero_warn(
                f"the task has {space:,} problems ({available:,} outside the evaluation sets), fewer than an epoch "
                f"of {self.epoch_size:,}: fresh draws will repeat them (sampling with replacement). For a fixed "
                f"training set seen pass after pass, set train_size (at most {available:,})"
            )
        if self.train_size is not None and self.train_size > available:
            raise ConfigError(
                f"train_size={self.train_size:,} is more than the {available:,} problems of the task outside the "
                "evaluation sets"
            )

    def _eval_dataloaders(self) -> list[StatefulDataLoader]:
        world, rank = self._ranks()
        loaders = []
        for name, problems in self.evaluated_sets.items():  # encoded once: no workers needed to serve them
            size = count(problems)
            if size < world:
                raise ConfigError(f"evaluation set {name!r} has {size} problems for {world} devices: give it more")
            shard = EvaluationShard(self.task, problems, self.batch_size, world, rank)
            loaders.append(self._loader(shard, WholeShard(len(shard))))
        return loaders

    def val_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()

    def test_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()

    def predict_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()


def data_families() -> list[type[StreamingDataModule]]:
    """Every concrete family DataModule (the classes a config's `class_path` may name)."""
    found, todo = [], list(StreamingDataModule.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo += cls.__subclasses__()
        # LightningDataModule is no ABC, so isabstract cannot tell: look for methods still marked abstract
        if not any(getattr(getattr(cls, name, None), "__isabstractmethod__", False) for name in dir(cls)):
            found.append(cls)
    return found


def data_from_spec(spec: dict[str, Any]) -> StreamingDataModule:
    """A DataModule from {"class_path": ..., "init_args": {...}}, as configs and checkpoints write it."""
    class_path = spec.get("class_path", "") if isinstance(spec, dict) else ""
    module_path, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_path), name)
    except (ImportError, AttributeError, ValueError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, StreamingDataModule)):
        known = ", ".join(f"{c.__module__}.{c.__qualname__}" for c in data_families())
        raise ConfigError(f"data class_path {class_path!r} is not a lit_math DataModule; known: {known}")
    return cls(**spec.get("init_args", {}))
