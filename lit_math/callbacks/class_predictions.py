"""Per-class predictions after every validation: the learned GCDs, the paper's rules, the steps.

Reads only what validation produced (the answers `validation_step` returns for the class-balanced evaluation
set); counts are summed over DDP ranks before anything is derived, so every rank holds the same figures.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import matplotlib
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from lit_math.analysis import figures
from lit_math.analysis.gcd_rules import LEARNED_THRESHOLD, ClassTable, check_rules, markdown_table
from lit_math.analysis.history import HISTORY_FILE, EpochRecord
from lit_math.callbacks.recording import RecordingCallback
from lit_math.errors import ConfigError, check_int
from lit_math.tasks import ClassedByAnswer


class GCDClassPredictions(RecordingCallback):
    """Counts, for each true class k = 1..classes, what the model predicts; logs what the GCD papers study.

    Works for any task whose answer is one integer and whose class is its true answer (`ClassedByAnswer`).
    TensorBoard gets `gcd/learned` (also as a figure, `gcd/learned_curve`), the per-class accuracies
    (`gcd_per_class/acc_kNNN`), the rules' figures, the paper's table as text, figures of accuracy over
    validations and of predictions per class, and the step events. During `fit` with a logger, every
    validation is also appended to `gcd_history.jsonl` in the run folder (what `lit-math
    report` reads); a resumed run starts its file with the records of the run it resumes, up to the checkpoint.

    Args:
        eval_set: Name of the class-balanced evaluation set.
        classes: Classes 1..classes are tabulated, predictions above count as "larger" (default: the task's
            ``largest_class``, the paper's 100).
        learned_threshold: A class is learned when its accuracy is at least this (see LEARNED_THRESHOLD).
    """

    def __init__(
        self, eval_set: str = "classes", classes: int | None = None, learned_threshold: float = LEARNED_THRESHOLD
    ) -> None:
        super().__init__(HISTORY_FILE, EpochRecord)
        self.eval_set = eval_set
        self.classes = None if classes is None else check_int("classes", classes, 1)
        if not 0 < learned_threshold <= 1:
            raise ConfigError(f"learned_threshold must be in (0, 1], got {learned_threshold}")
        self.threshold = learned_threshold
        self.accuracy_history: list[list[float]] = []
        self.curve: list[tuple[int, int, str]] = []
        """(examples, learned GCDs, step event or '') at each validation of `fit`: the learned-GCD figure."""
        self.learned: list[int] = []
        self.events: list[str] = []
        self._counts: ClassTable | None = None
        self.table: ClassTable | None = None
        """The last validation's table, summed over ranks (for notebooks and tests)."""

    @property
    def state_key(self) -> str:
        return self._generate_state_key(eval_set=self.eval_set)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        task = pl_module.task
        if not isinstance(task, ClassedByAnswer):
            raise ConfigError(
                f"GCDClassPredictions tabulates predicted against true answers, class by class: it needs a task "
                f"whose answer is one integer and whose class is that answer (gcd); {task.family!r} is not one"
            )
        names = getattr(trainer.datamodule, "eval_set_names", None)
        if names is not None and self.eval_set not in names:
            raise ConfigError(
                f"GCDClassPredictions reads evaluation set {self.eval_set!r}, but the data has {names or 'none'}"
                + (" (per_class is 0?)" if self.eval_set == "classes" else "")
            )
        self.classes = self.classes or task.largest_class
        self.base = task.config().get("base")

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._counts = ClassTable.empty(self.classes)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if isinstance(outputs, dict) and outputs.get("set") == self.eval_set:
            values, valid = pl_module.task.decode(outputs["hypotheses"])
            self._counts.add(pl_module.task.classes(outputs["problems"]), values, valid)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        counts = torch.as_tensor(self._counts.counts, device=pl_module.device)
        table = self.table = ClassTable(trainer.strategy.reduce(counts, reduce_op="sum").cpu().numpy())
        learned = table.learned(self.threshold)
        fitting = trainer.state.fn == "fit"
        joined = sorted(set(learned) - set(self.learned)) if fitting else []
        left = sorted(set(self.learned) - set(learned)) if fitting else []
        if fitting:  # an evaluation of a checkpoint leaves the run's curves alone
            self.learned = learned
            self.accuracy_history.append(np.nan_to_num(table.accuracy, nan=-1.0).tolist())
        rules = check_rules(table, self.base, self.threshold) if self.base else None
        self._log_scalars(pl_module, table, learned, rules)
        record = EpochRecord(
            epoch=trainer.current_epoch,
            step=trainer.global_step,
            examples=self.examples,
            counts=table.counts.tolist(),
            learned=learned,
            joined=joined,
            left=left,
            rules=rules.to_dict() if rules else {},
            base=self.base,
            threshold=self.threshold,
        )
        if record.is_event:
            self.events.append(record.event_text())
        if fitting:
            note = record.event_text().split(": ", 1)[1] if record.is_event else ""
            self.curve.append((self.examples, len(learned), note))
        if trainer.is_global_zero:
            self._log_to_tensorboard(trainer, table, record)
            self.history.append(trainer, record)

    def _log_scalars(self, pl_module: L.LightningModule, table: ClassTable, learned: list[int], rules: Any) -> None:
        scalars = {"gcd/learned": float(len(learned))}
        for k in table.present:
            scalars[f"gcd_per_class/acc_k{k:03d}"] = float(table.accuracy[k - 1])
        if rules is not None:
            scalars["gcd/rules/r1_mean_top_share"] = rules.mean_top_share
            scalars["gcd/rules/r1_deterministic_classes"] = float(rules.deterministic_classes)
            scalars["gcd/rules/r2_grokked"] = float(len(rules.grokked))
            if not np.isnan(rules.r3_explained):
                scalars["gcd/rules/r3_explained"] = rules.r3_explained
        for name, value in scalars.items():  # the same on every rank (counts summed first): log once
            pl_module.log(name, value, rank_zero_only=True)

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
            with matplotlib.rc_context(figures.CARD_FONTS):
                self._log_figures(
                    writer, table, step, figures.title(f"{logger.name}/version_{logger.version}", self.base)
                )

    def _log_figures(self, writer: Any, table: ClassTable, step: int, name: str) -> None:
        predictions = figures.card()
        figures.predictions_per_class(predictions, predictions.axes[0], table.counts)
        predictions.suptitle(f"predictions per class: {name}")
        writer.add_figure("gcd/predictions_per_class", predictions, step)
        if not self.curve:
            return
        examples, learned_counts, _ = zip(*self.curve, strict=True)
        curve = figures.card()
        marks = [(x, y, text) for x, y, text in self.curve if text]
        figures.learned_curve(curve.axes[0], examples, learned_counts, marks, self.threshold)
        curve.suptitle(f"learned GCDs: {name}")
        writer.add_figure("gcd/learned_curve", curve, step)
        history = np.array(self.accuracy_history)
        history[history < 0] = np.nan
        accuracy = figures.card()
        figures.class_accuracy(accuracy, accuracy.axes[0], history, examples)
        accuracy.suptitle(f"accuracy per class: {name}")
        writer.add_figure("gcd/accuracy_over_validations", accuracy, step)

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "accuracy_history": self.accuracy_history,
            "curve": self.curve,
            "learned": self.learned,
            "events": self.events,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.accuracy_history = state_dict["accuracy_history"]
        self.curve = [tuple(point) for point in state_dict.get("curve", [])]  # older checkpoints: none
        self.learned = state_dict["learned"]
        self.events = state_dict["events"]
        super().load_state_dict(state_dict)
