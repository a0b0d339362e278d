"""The polynomial family's DataModule: derivatives and real roots of random integer polynomials."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.polynomials import PolynomialTask


class PolynomialDataModule(StreamingDataModule):
    """Random polynomials with integer coefficients, generated on the fly (or from a pool, ``train_size``).

    Args:
        operation: ``derivative`` (exact, in prefix notation) or ``roots`` (the real roots, largest first,
            as floats; scored by relative L1 error under ``tolerance``).
        degree: Largest degree.
        min_degree: Smallest degree (degrees are uniform in min_degree..degree).
        max_coefficient: Coefficients are uniform in -max_coefficient..max_coefficient (leading one not 0).
        encoding: Float encoding of the roots: ``P10``, ``P1000``, ``B1999`` or ``FP15``.
        tolerance: Relative L1 error under which roots are right.
        epoch_size: Training examples per epoch, over all devices.
        batch_size: Examples per batch and device.
        num_workers: Dataloader worker processes per device (0: in the main process).
        train_size: The finite regime: train on a fixed pool of this many distinct problems (drawn once from
            ``seed``, none from the evaluation sets), in a new order at each pass. Default: fresh problems always.
        repeated_share: With ``train_size``, the share of each batch taken from the pool; the rest is fresh
            ("two-class" sampling). Default 1: the pool only.
        seed: Seed of the training stream.
        eval_seed: Seed of the evaluation set, kept apart from ``seed``.
        eval_size: Problems of the ``valid`` evaluation set.
    """

    def __init__(
        self,
        operation: str = "derivative",
        degree: int = 5,
        min_degree: int = 1,
        max_coefficient: int = 10,
        encoding: str = "P1000",
        tolerance: float = 0.01,
        epoch_size: int = 300_000,
        batch_size: int = 128,
        num_workers: int = 0,
        seed: int = 0,
        eval_seed: int = 1_000_003,
        train_size: int | None = None,
        repeated_share: float = 1.0,
        eval_size: int = 2000,
    ) -> None:
        self.knobs = dict(
            operation=operation, degree=degree, min_degree=min_degree, max_coefficient=max_coefficient,
            encoding=encoding, tolerance=tolerance,
        )  # fmt: skip
        super().__init__(
            epoch_size=epoch_size, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed,
            train_size=train_size, repeated_share=repeated_share,
        )  # fmt: skip
        self.eval_size = check_int("eval_size", eval_size, 1)
        self.save_hyperparameters()

    def build_task(self) -> PolynomialTask:
        return PolynomialTask(**self.knobs)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: problems drawn like training ones, from ``eval_seed``."""
        return {"valid": self.task.sample(self.eval_rng("valid"), self.eval_size)}
