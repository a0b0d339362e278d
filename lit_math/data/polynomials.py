"""The polynomial family's DataModule: `PolynomialTask`'s fields are its knobs."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.polynomials import PolynomialTask


class PolynomialDataModule(StreamingDataModule):
    """Random polynomials with integer coefficients, generated on the fly (or from a pool, ``train_size``)."""

    settings = PolynomialTask
    stream_defaults = {"batch_size": 128}  # noqa: RUF012 (read only)
    eval_size: int = 2000
    """Problems of the ``valid`` evaluation set."""

    def check_knobs(self) -> None:
        super().check_knobs()
        check_int("eval_size", self.eval_size, 1)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: problems drawn like training ones, from ``eval_seed``."""
        return {"valid": self.task.sample(self.eval_rng("valid"), self.eval_size)}
