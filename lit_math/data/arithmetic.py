"""The arithmetic family's DataModule (Int2Int's problems): the operation, the base and the operands are knobs."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.pool import distinct_problems
from lit_math.data.stream import HeldOut
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.arithmetic import ArithmeticTask


class ArithmeticDataModule(StreamingDataModule):
    """Integer arithmetic in any base, generated on the fly (or, with ``train_size``, from a fixed pool).

    Args:
        operation: ``add``, ``sub``, ``mul``, ``mod_add``, ``mod_mul`` (with ``modulus``), ``frac_compare``
            (a/b vs c/d: -1, 0, 1), ``frac_add``, ``frac_mul``, ``frac_simplify`` (lowest terms),
            ``frac_round`` (nearest integer, halves up) or ``determinant`` (a d - b c of a 2x2 matrix).
        base: Base the integers are written in.
        min_int: Smallest operand (denominators are at least 1); negative operands are allowed.
        max_int: Largest operand (at most 2^31 - 1).
        operands: ``uniform`` on min_int..max_int, or ``log_uniform`` (min_int >= 1).
        modulus: The modulus of ``mod_add`` and ``mod_mul``; operands are its residues.
        epoch_size: Training examples per epoch, over all devices.
        batch_size: Examples per batch and device.
        num_workers: Dataloader worker processes per device (0: in the main process).
        train_size: The finite regime: train on a fixed pool of this many distinct problems (drawn once from
            ``seed``, none from the evaluation sets), in a new order at each pass. Default: fresh problems always.
        repeated_share: With ``train_size``, the share of each batch taken from the pool; the rest is fresh
            ("two-class" sampling). Default 1: the pool only.
        seed: Seed of the training stream.
        eval_seed: Seed of the evaluation set, kept apart from ``seed``.
        eval_size: Distinct problems of the ``valid`` evaluation set.
    """

    def __init__(
        self,
        operation: str = "add",
        base: int = 10,
        min_int: int = 0,
        max_int: int = 999,
        operands: str = "uniform",
        modulus: int | None = None,
        epoch_size: int = 300_000,
        batch_size: int = 256,
        num_workers: int = 0,
        seed: int = 0,
        eval_seed: int = 1_000_003,
        train_size: int | None = None,
        repeated_share: float = 1.0,
        eval_size: int = 10_000,
    ) -> None:
        self.knobs = dict(
            operation=operation, base=base, min_int=min_int, max_int=max_int, operands=operands, modulus=modulus
        )
        super().__init__(
            epoch_size=epoch_size, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed,
            train_size=train_size, repeated_share=repeated_share,
        )  # fmt: skip
        self.eval_size = check_int("eval_size", eval_size, 1)
        self.save_hyperparameters()

    def build_task(self) -> ArithmeticTask:
        return ArithmeticTask(**self.knobs)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: distinct problems drawn like training ones, from ``eval_seed`` (distinct, since a small
        modulus has few problems and a repeated test problem would count twice)."""
        return {"valid": distinct_problems(self.task, self.eval_size, self.eval_rng("valid"), HeldOut(self.task, []))}
