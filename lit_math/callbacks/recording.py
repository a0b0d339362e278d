"""What the callbacks that keep a run history share: the history file and the examples seen so far."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

from lit_math.analysis.history import Record, append_record, read_history, write_history


class RunHistory:
    """The history file a callback appends to after every validation of `fit` with a logger (in the run
    folder). A resumed run, in a new folder or the same, starts its file with the records of the run it
    resumes up to the checkpoint, and forgets what that run did after it."""

    def __init__(self, filename: str, record_type: type) -> None:
        self.filename, self.record_type = filename, record_type
        self.path: Path | None = None
        self.resumed_from: Path | None = None

    def start(self, trainer: L.Trainer) -> None:
        """At train start, once the checkpoint's training state (global_step) is back."""
        has_log_dir = trainer.logger is not None and trainer.log_dir is not None
        self.path = Path(trainer.log_dir) / self.filename if has_log_dir else None
        if trainer.is_global_zero and self.path is not None:
            earlier = self.resumed_from if self.resumed_from and self.resumed_from.is_file() else None
            kept = read_history(earlier, self.record_type) if earlier else []
            write_history(self.path, [r for r in kept if r.step <= trainer.global_step])

    def append(self, trainer: L.Trainer, record: Record) -> None:
        if trainer.is_global_zero and trainer.state.fn == "fit" and self.path is not None:
            append_record(self.path, record)

    def state_dict(self) -> str | None:
        return str(self.path) if self.path else None

    def load_state_dict(self, path: str | None) -> None:
        self.resumed_from = Path(path) if path else None


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
