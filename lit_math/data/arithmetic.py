"""The arithmetic family's DataModule (Int2Int's problems): `ArithmeticTask`'s fields are its knobs."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.pool import distinct_problems
from lit_math.data.stream import HeldOut
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.arithmetic import ArithmeticTask


class ArithmeticDataModule(StreamingDataModule):
    """Integer arithmetic in any base, generated on the fly (or, with ``train_size``, from a fixed pool)."""

    settings = ArithmeticTask
    eval_size: int = 10_000
    """Distinct problems of the ``valid`` evaluation set."""

    def check_knobs(self) -> None:
        super().check_knobs()
        check_int("eval_size", self.eval_size, 1)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: distinct problems drawn like training ones, from ``eval_seed`` (distinct, since a small
        modulus has few problems and a repeated test problem would count twice)."""
        return {"valid": distinct_problems(self.task, self.eval_size, self.eval_rng("valid"), HeldOut(self.task, []))}
