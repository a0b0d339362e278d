"""What a mixture actually served: each member's share of the training examples."""

from __future__ import annotations

from typing import Any

import lightning as L


class MixtureShares(L.Callback):
    """Logs `data/share/<member>`, the share of each epoch's training examples that came from each member of a
    mixture (summed over ranks), so that a run shows what it saw, not only what its config asked for."""

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        member = batch.get("member") if isinstance(batch, dict) else None
        if member is None:
            return
        size = batch["source"].shape[0]
        for number, name in enumerate(trainer.datamodule.member_names):
            share = float(int(member) == number)
            pl_module.log(f"data/share/{name}", share, on_step=False, on_epoch=True, batch_size=size, sync_dist=True)
