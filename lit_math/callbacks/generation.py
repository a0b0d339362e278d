"""How much each kept training example cost to generate: rejected attempts per example, by reason."""

from __future__ import annotations

from typing import Any

import lightning as L


class GenerationStats(L.Callback):
    """Logs `data/rejected/<reason>`: rejected attempts per kept example in each training batch, for the
    families whose generator rejects (`Task.rejection_kinds`: symbolic timeouts, unevaluated integrals, too
    long, ...; linear-algebra answers the encoding cannot write).

    The counts travel inside the batch, so they are right whichever dataloader worker made it.
    """

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        rejected = batch.get("problems", {}).get("rejected")
        if rejected is None:
            return
        per_example = rejected.float().mean(dim=0)
        size = rejected.shape[0]
        for reason, value in zip(pl_module.task.rejection_kinds, per_example, strict=True):
            pl_module.log(f"data/rejected/{reason}", value, on_step=True, on_epoch=False, batch_size=size)
