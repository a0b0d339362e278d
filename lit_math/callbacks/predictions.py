"""`lit-math predict` writes every answer to JSON lines, one file per evaluation set, for notebooks and papers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter


class WritePredictions(BasePredictionWriter):
    """One line per problem: the problem, the model's tokens, their reading, and whether they are right.

    Args:
        output_dir: Folder for ``<set>.jsonl`` (default: ``predictions/`` in the run's log directory).
    """

    def __init__(self, output_dir: str | None = None) -> None:
        super().__init__(write_interval="batch")
        self.output_dir = output_dir

    def folder(self, trainer: L.Trainer) -> Path:
        """Where the files go: `output_dir`, else `predictions/` in the log directory (the working directory
        for an evaluation without --logdir)."""
        return Path(self.output_dir or Path(trainer.log_dir or ".") / "predictions")

    def _path(self, trainer: L.Trainer, dataloader_idx: int) -> Path:
        folder = self.folder(trainer)
        names = getattr(trainer.datamodule, "eval_set_names", None) or []
        name = names[dataloader_idx] if dataloader_idx < len(names) else f"set{dataloader_idx}"
        rank = f".rank{trainer.global_rank}" if trainer.world_size > 1 else ""
        return folder / f"{name}{rank}.jsonl"

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for index in range(len(trainer.predict_dataloaders or [])):
            path = self._path(trainer, index)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: dict[str, Any],
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        problems, hypotheses = prediction["problems"], prediction["hypotheses"]
        answers = pl_module.task.render(problems, hypotheses)
        described = pl_module.task.describe(problems)
        with self._path(trainer, dataloader_idx).open("a") as out:
            for i, answer in enumerate(answers):
                line = {
                    "problem": described[i],
                    "output": " ".join(pl_module.vocabulary.words(hypotheses[i])),
                    "answer": answer,
                    "correct": bool(prediction["correct"][i]),
                }
                out.write(json.dumps(line) + "\n")
