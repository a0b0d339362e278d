"""Examples per second on the progress bar and in the logs: the figure that says whether data keeps up."""

from __future__ import annotations

import time
from typing import Any

import lightning as L

from lit_math.errors import check_int


class ExamplesPerSecond(L.Callback):
    """Training examples per second over all devices, averaged over the last `window` batches.

    Args:
        window: Batches per measurement (the first batch of an epoch waits for dataloader start-up: not timed).
    """

    def __init__(self, window: int = 50) -> None:
        self.window = check_int("window", window, 1)
        self._start: float | None = None
        self._examples = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start, self._examples = None, 0

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.perf_counter()
        if self._start is None:  # time from the end of the first batch, so start-up is not counted
            self._start = now
            return
        self._examples += batch["source"].shape[0] * trainer.world_size
        if self._examples >= self.window * batch["source"].shape[0] * trainer.world_size:
            rate = self._examples / (now - self._start)
            pl_module.log("train/examples_per_s", rate, prog_bar=True, rank_zero_only=True)
            self._start, self._examples = now, 0
