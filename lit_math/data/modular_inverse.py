"""The modular-inverse family's DataModule: `ModularInverseTask`'s fields are its knobs."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.pool import distinct_problems
from lit_math.data.stream import HeldOut
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.modular_inverse import ModularInverseTask


class ModularInverseDataModule(StreamingDataModule):
    """Residues and their inverses modulo m, generated on the fly."""

    settings = ModularInverseTask
    eval_size: int = 10_000
    """Distinct problems of the ``valid`` evaluation set."""

    def check_knobs(self) -> None:
        super().check_knobs()
        check_int("eval_size", self.eval_size, 1)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: distinct problems drawn like training ones (a small modulus has few of them)."""
        return {"valid": distinct_problems(self.task, self.eval_size, self.eval_rng("valid"), HeldOut(self.task, []))}
