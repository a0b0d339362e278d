"""The linear-algebra family's DataModule: the operation, the matrices and the encodings are its knobs."""

from __future__ import annotations

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.linalg import LinearAlgebraTask
from lit_math.tasks.sizes import LinearAlgebraSizes


class LinearAlgebraDataModule(StreamingDataModule):
    """Matrices of floats and an operation on them (Charton 2022), generated on the fly.

    Args:
        operation: ``transpose``, ``add``, ``matmul``, ``matvec``, ``eigenvalues`` (symmetric),
            ``eigendecomposition`` (values and vectors), ``singular_values``, ``svd`` (full) or ``inverse``.
        size: Rows of the matrices (the largest, with ``min_size``).
        min_size: Train on every size from ``min_size`` to ``size`` at once, drawn uniformly (square, or with
            ``cols`` rows and columns drawn independently, columns up to ``cols``).
        eval_by_size: With ``min_size``, also an evaluation set per size (``5x5``, ...), ``eval_size`` each.
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
        operation: str = "transpose",
        size: int = 5,
        min_size: int | None = None,
        eval_by_size: bool = True,
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
        train_size: int | None = None,
        repeated_share: float = 1.0,
        eval_size: int = 1000,
    ) -> None:
        self.min_size = min_size  # read by build_task, which the base class calls
        self.knobs = dict(
            operation=operation, rows=size, cols=cols, input_encoding=input_encoding or encoding,
            output_encoding=output_encoding or encoding, max_exponent=max_exponent, coefficients=coefficients,
            bound=bound, eigen_distribution=eigen_distribution, noise=noise, tolerance=tolerance,
        )  # fmt: skip
        super().__init__(
            epoch_size=epoch_size, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed,
            train_size=train_size, repeated_share=repeated_share,
        )  # fmt: skip
        self.eval_size = check_int("eval_size", eval_size, 1)
        self.eval_by_size = eval_by_size
        self.save_hyperparameters()

    def build_task(self) -> LinearAlgebraTask | LinearAlgebraSizes:
        if self.min_size is None:
            return LinearAlgebraTask(**self.knobs)
        return LinearAlgebraSizes(**self.knobs, min_rows=self.min_size)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: problems drawn like training ones, from ``eval_seed``; with a range of sizes, one set per
        size too (accuracy by size: how learning moves from small matrices to large ones)."""
        sets = {"valid": self.task.sample(self.eval_rng("valid"), self.eval_size)}
        if isinstance(self.task, LinearAlgebraSizes) and self.eval_by_size:
            for shape in self.task.shapes:
                name = "x".join(map(str, shape))
                sets[name] = self.task.sample_of_size(self.eval_rng(name), self.eval_size, shape)
        return sets
