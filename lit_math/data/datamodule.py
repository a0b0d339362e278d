"""What every family's DataModule shares: the training stream, the fixed evaluation sets, the loaders."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import lightning as L
import numpy as np
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_math.data.stream import FixedBatches, HeldOut, ShardSampler, StreamSampler, TrainingStream
from lit_math.errors import check_int
from lit_math.tasks import Problems, Task


class StreamingDataModule(L.LightningDataModule):
    """Fresh training batches every epoch; evaluation sets built once from their own seed and held out.

    Subclasses build the task and the named evaluation sets; everything about streams lives here.
    """

    def __init__(self, *, epoch_size: int, batch_size: int, num_workers: int, seed: int, eval_seed: int) -> None:
        super().__init__()
        self.epoch_size = check_int("epoch_size", epoch_size, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.num_workers = check_int("num_workers", num_workers, 0)
        self.seed, self.eval_seed = seed, eval_seed
        self.task = self.build_task()
        self._eval_problems: dict[str, Problems] | None = None

    @abstractmethod
    def build_task(self) -> Task:
        """The family's task, configured from this module's knobs."""

    @abstractmethod
    def build_eval_sets(self, rng: np.random.Generator) -> dict[str, Problems]:
        """The named evaluation sets, drawn from `rng` (seeded with `eval_seed`)."""

    @property
    def task_config(self) -> dict[str, Any]:
        """The task's configuration; the CLI links it to the model so both agree on the vocabulary."""
        return self.task.config()

    @property
    def eval_problems(self) -> dict[str, Problems]:
        if self._eval_problems is None:
            self._eval_problems = self.build_eval_sets(np.random.default_rng(self.eval_seed))
        return self._eval_problems

    @property
    def eval_set_names(self) -> list[str]:
        return list(self.eval_problems)

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
        stream = TrainingStream(
            self.task, self.batch_size, self.seed, HeldOut(self.task, list(self.eval_problems.values()))
        )
        return self._loader(stream, StreamSampler(self.epoch_size // self.batch_size, world, rank), self.num_workers)

    def _eval_dataloaders(self) -> list[StatefulDataLoader]:
        world, rank = self._ranks()
        loaders = []
        for problems in self.eval_problems.values():  # encoded once: no workers needed to serve them
            batches = FixedBatches(self.task, problems, self.batch_size)
            loaders.append(self._loader(batches, ShardSampler(len(batches), world, rank)))
        return loaders

    def val_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()

    def test_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()

    def predict_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()
