"""What a researcher sees first in TensorBoard: the learned-GCD curve and the headline accuracies.

TensorBoard's Scalars page sorts its groups by name and pages through them, so with a hundred per-class cards
the curve a GCD run is watched for is hard to find. A custom-scalars layout (the Custom Scalars tab) puts the
headline curves on one screen; the per-class cards have a group of their own (`gcd_per_class`).
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger

LAYOUT = {
    "lit-math": {
        "learned GCDs": ["Multiline", [r"^gcd/learned$"]],
        "accuracy": ["Multiline", [r"^val/[^/]+/acc$", r"^val/[^/]+/acc@"]],
        "loss": ["Multiline", [r"^train/loss$", r"^val/[^/]+/loss$"]],
        "examples per second": ["Multiline", [r"^train/examples_per_s$"]],
        "GCD rules": ["Multiline", [r"^gcd/rules/"]],
        "rejected draws": ["Multiline", [r"^data/rejected/"]],
    }
}
"""Categories of charts, each a list of tag regular expressions (TensorBoard's custom-scalars format)."""


class ScalarsLayout(L.Callback):
    """Writes LAYOUT once per run to every TensorBoard logger (the CLI adds it to every run)."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                if isinstance(logger, TensorBoardLogger):
                    logger.experiment.add_custom_scalars(LAYOUT)
