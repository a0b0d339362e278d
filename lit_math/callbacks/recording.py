"""What the callbacks that keep a run history share: the history file and the examples seen so far."""

from __future__ import annotations

from typing import Any

import lightning as L

from lit_math.analysis.history import RunHistory


class RecordingCallback(L.Callback):
    """Keeps `history` (one record per validation of `fit`, see `RunHistory`) and counts `examples`, the
    training examples seen over all ranks; both survive a resume."""

    def __init__(self, filename: str, record_type: type) -> None:
        self.history = RunHistory(filename, record_type)
        self.examples = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.history.start(trainer)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.examples += batch["source"].shape[0] * trainer.world_size

    def state_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "history_path": self.history.state_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.examples = state_dict["examples"]
        self.history.load_state_dict(state_dict["history_path"])
