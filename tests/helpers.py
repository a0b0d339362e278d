"""Small builders shared by the tests: a tiny GCD data module and model, and a batch recorder."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np

from lit_math.data import GCDDataModule
from lit_math.model import Seq2SeqModule

TINY_MODEL = dict(d_model=32, n_enc_layers=1, n_dec_layers=1, n_heads=4, lr=2e-3, warmup_steps=10)


def tiny_data(**overrides: Any) -> GCDDataModule:
    knobs = dict(
        base=10, max_int=1000, epoch_size=64 * 12, batch_size=64, per_class=4, classes=20, natural_size=200, seed=3
    )
    return GCDDataModule(**{**knobs, **overrides})


def tiny_model(data: GCDDataModule, **overrides: Any) -> Seq2SeqModule:
    return Seq2SeqModule(task=data.task_config, **{**TINY_MODEL, **overrides})


def pairs(batch: dict[str, Any]) -> list[tuple[int, int]]:
    a, b = batch["problems"]["a"].tolist(), batch["problems"]["b"].tolist()
    return list(zip(a, b, strict=True))


class RecordBatches(L.Callback):
    """Remembers every training pair, in order, as (global step, a, b)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, int]] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.seen += [(trainer.global_step, a, b) for a, b in pairs(batch)]

    def pairs(self) -> list[tuple[int, int]]:
        return [(a, b) for _, a, b in self.seen]


def trainer(tmp_path: Any, **overrides: Any) -> L.Trainer:
    options = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
    )
    return L.Trainer(**{**options, **overrides})


def sorted_pairs(values: list[tuple[int, int]]) -> np.ndarray:
    return np.array(sorted(values))


def untrained_checkpoint(task_config: dict[str, Any], path: Any) -> Any:
    """A checkpoint of an untrained tiny model for `task_config`, as `lit-math fit` writes them (for commands
    that only need one to read: translate, validate)."""
    import torch

    module = Seq2SeqModule(task=task_config, **TINY_MODEL)
    checkpoint = {
        "state_dict": module.state_dict(),
        "hyper_parameters": dict(module.hparams),
        "pytorch-lightning_version": L.__version__,
    }
    module.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path
