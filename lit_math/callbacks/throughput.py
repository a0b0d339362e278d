"""Examples per second on the progress bar and in the logs: the figure that says whether data keeps up."""

from __future__ import annotations

import time
from typing import Any

import lightning as L

from lit_math.errors import check_int


class ExamplesPerSecond(L.Callback):
    """Training examples per second over all devices, measured over `window` batches (and at the end of every
    epoch, so that runs with short epochs show it too).

    Time runs from the end of one batch to the end of the next, data loading included (the figure says
    whether data keeps up); the first batch of an epoch waits for validation and dataloader start-up and is
    not timed.

    Args:
        window: Batches per measurement.
    """

    def __init__(self, window: int = 50) -> None:
        self.window = check_int("window", window, 1)
        self._last: float | None = None
        self._seconds, self._examples, self._batches = 0.0, 0, 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last = None

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self._seconds += now - self._last
            self._examples += batch["source"].shape[0] * trainer.world_size
            self._batches += 1
        self._last = now
        if self._batches >= self.window:
            self._log(pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._batches:
            self._log(pl_module)

    def _log(self, pl_module: L.LightningModule) -> None:
        rate = self._examples / max(self._seconds, 1e-9)
        pl_module.log("train/examples_per_s", rate, prog_bar=True, rank_zero_only=True)
        self._seconds, self._examples, self._batches = 0.0, 0, 0
