"""Where a model fails: accuracy by problem class, and what its wrong answers still get right.

Classes are the task's own (`Task.classes`): decades of the condition number for linear algebra (how the
accuracy of `inverse` falls with conditioning, among the matrices whose rounded inverse passes the tolerance,
the only ones kept), the problem's length in tokens for the symbolic families.
Among wrong answers, the share of each of the task's outcome kinds: for an eigendecomposition, the answers
whose eigenvalues are right, whose vectors are unit-norm, whose vectors are orthogonal (Charton 2022).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch

from lit_math.analysis.error_history import ERROR_HISTORY_FILE, ErrorRecord
from lit_math.callbacks.recording import RecordingCallback
from lit_math.errors import check_int


class ErrorAnalysis(RecordingCallback):
    """Logs, every validation and for each evaluation set, `analysis/<set>/acc_by_class/<class>` and
    `analysis/<set>/among_errors/<kind>` (counts summed over DDP ranks first). During `fit` with a logger,
    the counts are also appended to `error_analysis.jsonl` in the run folder (what `lit-math report` reads).

    Args:
        max_class: Classes above this are counted with it (lengths of long problems, say).
    """

    def __init__(self, max_class: int = 1023) -> None:
        super().__init__(ERROR_HISTORY_FILE, ErrorRecord)
        self.max_class = check_int("max_class", max_class, 0)
        self._sets: list[str] = []
        self._kinds: list[str] = []
        self.record: ErrorRecord | None = None
        """The last validation's counts, summed over ranks."""

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._sets = list(pl_module.eval_set_names)
        # accuracy at a stricter tolerance is never true of a wrong answer: not worth a curve among errors
        self._kinds = [kind for kind in pl_module.task.outcome_kinds if not kind.startswith("acc@")]
        sets = len(self._sets)
        self._total = np.zeros((sets, self.max_class + 1), dtype=np.int64)
        self._right = np.zeros_like(self._total)
        self._wrong = np.zeros(sets, dtype=np.int64)
        self._among = np.zeros((sets, len(self._kinds)), dtype=np.int64)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or outputs.get("set") not in self._sets:
            return
        s = self._sets.index(outputs["set"])
        correct = np.asarray(outputs["correct"], dtype=bool)
        classes = np.clip(pl_module.task.classes(outputs["problems"]), 0, self.max_class)
        np.add.at(self._total[s], classes, 1)
        np.add.at(self._right[s], classes, correct.astype(np.int64))
        wrong = ~correct
        self._wrong[s] += int(wrong.sum())
        for k, kind in enumerate(self._kinds):
            self._among[s, k] += int((np.asarray(outputs["outcomes"][kind], dtype=bool) & wrong).sum())

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not self._sets:
            return
        flat = np.concatenate([self._total.ravel(), self._right.ravel(), self._wrong, self._among.ravel()])
        summed = trainer.strategy.reduce(torch.as_tensor(flat, device=pl_module.device), reduce_op="sum")
        flat = summed.cpu().numpy().astype(np.int64)
        sets, width = self._total.shape
        total, right = (
            flat[: sets * width].reshape(sets, width),
            flat[sets * width : 2 * sets * width].reshape(sets, width),
        )
        wrong = flat[2 * sets * width : 2 * sets * width + sets]
        among = flat[2 * sets * width + sets :].reshape(sets, len(self._kinds))
        sets = {
            name: {
                "classes": [[int(c), int(total[s, c]), int(right[s, c])] for c in np.flatnonzero(total[s])],
                "wrong": int(wrong[s]),
                "among_errors": {kind: int(among[s, k]) for k, kind in enumerate(self._kinds)},
            }
            for s, name in enumerate(self._sets)
        }
        classes_are = pl_module.task.classes_are
        self.record = ErrorRecord(trainer.current_epoch, trainer.global_step, self.examples, classes_are, sets)
        self.history.append(trainer, self.record)
        for name in self._sets:  # the same on every rank (counts summed first): log once
            for c, value in self.accuracy_by_class[name].items():
                pl_module.log(f"analysis/{name}/acc_by_class/{c}", float(value), rank_zero_only=True)
            for kind, value in self.among_errors[name].items():
                pl_module.log(f"analysis/{name}/among_errors/{kind}", float(value), rank_zero_only=True)

    @property
    def accuracy_by_class(self) -> dict[str, dict[int, float]]:
        """Per set, class -> accuracy, at the last validation."""
        record = self.record
        if record is None:
            return {}
        return {name: {c: acc for c, (_, acc) in record.accuracy_by_class(name).items()} for name in record.sets}

    @property
    def among_errors(self) -> dict[str, dict[str, float]]:
        """Per set, kind -> share of the wrong answers, at the last validation."""
        record = self.record
        return {} if record is None else {name: record.among_errors(name) for name in record.sets}
