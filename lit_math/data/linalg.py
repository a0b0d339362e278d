"""The linear-algebra family's DataModule: the operation, the matrices and the encodings are its knobs."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.linalg import LinearAlgebraTask


class LinearAlgebraDataModule(StreamingDataModule):
    """Matrices of floats and an operation on them (Charton 2022), generated on the fly.

    Args:
        operation: ``transpose``, ``add``, ``matmul``, ``matvec``, ``eigenvalues`` (symmetric),
            ``eigendecomposition`` (values and vectors), ``singular_values``, ``svd`` (full) or ``inverse``.
        size: Rows of the matrices.
        cols: Columns (default: square); transpose, add, matmul, matvec and the SVDs may be rectangular.
        encoding: Float encoding of problems and answers: ``P10``, ``P1000``, ``B1999`` or ``FP15``.
        input_encoding: Encoding of the problems, when it differs from ``encoding``.
        output_encoding: Encoding of the answers, when it differs from ``encoding``.
        max_exponent: Largest exponent written (FP15: keep it small, 1999 tokens per exponent); examples
            whose numbers fall outside are drawn again.
        coefficients: Entries ``uniform`` on [-bound, bound] or ``gaussian`` with the same variance.
        bound: The bound A of the entries (the paper: 10).
        eigen_distribution: Eigenvalues of the symmetric tasks: ``semicircle`` (a plain Wigner matrix),
            ``uniform``, ``gaussian``, ``laplace``, ``positive``, ``positive_laplace``, ``marchenko_pastur``
            (Q D Q^T with Haar Q, the Wigner matrix's variance).
        noise: Relative gaussian noise on the input entries (answers are those of the clean matrix).
        tolerance: Relative L1 error under which an answer is right (``acc``); 2%, 1%, 0.5% are logged too.
        epoch_size: Training examples per epoch, over all devices.
        batch_size: Examples per batch and device.
        num_workers: Dataloader worker processes per device (0: in the main process).
        seed: Seed of the training stream.
        eval_seed: Seed of the evaluation set, kept apart from ``seed``.
        eval_size: Problems of the ``valid`` evaluation set.
    """

    def __init__(
        self,
        operation: str = "transpose",
        size: int = 5,
        cols: int | None = None,
        encoding: str = "P1000",
        input_encoding: str | None = None,
        output_encoding: str | None = None,
        max_exponent: int = 100,
        coefficients: str = "uniform",
        bound: float = 10.0,
        eigen_distribution: str = "semicircle",
        noise: float = 0.0,
        tolerance: float = 0.05,
        epoch_size: int = 300_000,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
        eval_seed: int = 1_000_003,
        eval_size: int = 1000,
    ) -> None:
        self.knobs = dict(
            operation=operation, rows=size, cols=cols, input_encoding=input_encoding or encoding,
            output_encoding=output_encoding or encoding, max_exponent=max_exponent, coefficients=coefficients,
            bound=bound, eigen_distribution=eigen_distribution, noise=noise, tolerance=tolerance,
        )  # fmt: skip
        super().__init__(
            epoch_size=epoch_size, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed
        )
        self.eval_size = check_int("eval_size", eval_size, 1)
        self.save_hyperparameters()

    def build_task(self) -> LinearAlgebraTask:
        return LinearAlgebraTask(**self.knobs)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: problems drawn like training ones, from ``eval_seed``."""
        return {"valid": self.task.sample(self.eval_rng("valid"), self.eval_size)}
