"""Per-class predictions after every validation epoch: the learned GCDs, the paper's rules, the steps.

Reads only what validation produced (the answers `validation_step` returns for the class-balanced evaluation
set); counts are summed over DDP ranks before anything is derived, so every rank logs the same figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from lit_math.analysis.gcd_rules import ClassTable, check_rules, markdown_table
from lit_math.analysis.history import HISTORY_FILE, EpochRecord, append_record
from lit_math.analysis.images import heatmap
from lit_math.errors import ConfigError, check_int


class GCDClassPredictions(L.Callback):
    """Counts, for each true class k = 1..classes, what the model predicts; logs what the GCD papers study.

    Works for any task whose answer is one integer and whose problems have a class (the task's `answers` and
    `classes`). TensorBoard gets `gcd/learned`, `gcd/acc/kNNN`, the rules' figures, the paper's table as text,
    heatmaps of accuracy over epochs and of predictions per class, and the step events; during `fit`, every
    epoch is also appended to `gcd_history.jsonl` in the run directory (what `lit-math report` reads).

    Args:
        eval_set: Name of the class-balanced evaluation set.
        classes: Classes 1..classes are tabulated (predictions above are counted as "larger").
        learned_threshold: A class is learned when its accuracy is at least this (see LEARNED_THRESHOLD).
    """

    def __init__(self, eval_set: str = "classes", classes: int = 100, learned_threshold: float = 0.9) -> None:
        self.eval_set = eval_set
        self.classes = check_int("classes", classes, 1)
        if not 0 < learned_threshold <= 1:
            raise ConfigError(f"learned_threshold must be in (0, 1], got {learned_threshold}")
        self.threshold = learned_threshold
        self.accuracy_history: list[list[float]] = []
        self.learned: list[int] = []
        self.events: list[str] = []
        self._table = ClassTable.empty(self.classes)
        self.table: ClassTable | None = None
        """The last epoch's table, summed over ranks (for notebooks and tests)."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        task = pl_module.task
        if not all(hasattr(task, name) for name in ("answers", "classes")):
            raise ConfigError(f"GCDClassPredictions needs a task with integer answers; {task.family!r} has none")
        self.base = task.config().get("base")

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._table = ClassTable.empty(self.classes)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or outputs.get("set") != self.eval_set:
            return
        values, valid = pl_module.task.answers(outputs["hypotheses"])
        self._table.add(pl_module.task.classes(outputs["problems"]), values, valid)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        counts = torch.as_tensor(self._table.counts, device=pl_module.device)
        table = ClassTable(trainer.strategy.reduce(counts, reduce_op="sum").cpu().numpy())
        if not table.totals.any():
            return
        self.table = table
        learned = table.learned(self.threshold)
        joined = sorted(set(learned) - set(self.learned))
        left = sorted(set(self.learned) - set(learned))
        fitting = trainer.state.fn == "fit"
        if fitting:  # an evaluation of a checkpoint leaves the run's curves alone
            self.learned = learned
            self.accuracy_history.append(np.nan_to_num(table.accuracy, nan=-1.0).tolist())
        rules = check_rules(table, self.base, self.threshold) if self.base else None
        self._log_scalars(pl_module, table, learned, rules)
        batch_size = getattr(trainer.datamodule, "batch_size", 0)
        record = EpochRecord(
            epoch=trainer.current_epoch,
            step=trainer.global_step,
            examples=trainer.global_step * trainer.accumulate_grad_batches * trainer.world_size * batch_size,
            counts=table.counts.tolist(),
            learned=learned,
            joined=joined if fitting else [],
            left=left if fitting else [],
            rules=rules.to_dict() if rules else {},
            base=self.base,
        )
        if record.is_event:
            self.events.append(record.event_text())
        if trainer.is_global_zero:
            self._log_to_tensorboard(trainer, table, record)
            if fitting and trainer.log_dir is not None:
                append_record(Path(trainer.log_dir) / HISTORY_FILE, record)

    def _log_scalars(self, pl_module: L.LightningModule, table: ClassTable, learned: list[int], rules: Any) -> None:
        scalars = {"gcd/learned": float(len(learned))}
        for k in table.present:
            scalars[f"gcd/acc/k{k:03d}"] = float(table.accuracy[k - 1])
        if rules is not None:
            scalars["gcd/rules/r1_mean_top_share"] = rules.mean_top_share
            scalars["gcd/rules/r1_deterministic_classes"] = float(rules.deterministic_classes)
            scalars["gcd/rules/r2_grokked"] = float(len(rules.grokked))
            if not np.isnan(rules.r3_explained):
                scalars["gcd/rules/r3_explained"] = rules.r3_explained
        for name, value in scalars.items():  # identical on every rank: the counts were summed first
            pl_module.log(name, value)

    def _log_to_tensorboard(self, trainer: L.Trainer, table: ClassTable, record: EpochRecord) -> None:
        step = trainer.global_step
        for logger in trainer.loggers:
            if not isinstance(logger, TensorBoardLogger):
                continue
            writer = logger.experiment
            learned = ", ".join(map(str, record.learned)) or "none"
            writer.add_text("gcd/table", f"Learned: {learned}\n\n" + markdown_table(table, self.threshold), step)
            if self.events:
                writer.add_text("gcd/events", "\n\n".join(self.events), step)
            with np.errstate(invalid="ignore", divide="ignore"):
                shares = table.counts / table.totals[:, None]
            writer.add_image("gcd/predictions_per_class", heatmap(shares), step, dataformats="HWC")
            if self.accuracy_history:
                history = np.array(self.accuracy_history)
                history[history < 0] = np.nan
                writer.add_image("gcd/accuracy_over_epochs", heatmap(history), step, dataformats="HWC")

    def state_dict(self) -> dict[str, Any]:
        return {"accuracy_history": self.accuracy_history, "learned": self.learned, "events": self.events}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.accuracy_history = state_dict["accuracy_history"]
        self.learned = state_dict["learned"]
        self.events = state_dict["events"]
