"""The linear-algebra family's DataModule: `LinearAlgebraKnobs`' fields are its knobs, for one size or many."""

from __future__ import annotations

from dataclasses import fields

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.linalg import LinearAlgebraKnobs, LinearAlgebraTask
from lit_math.tasks.sizes import LinearAlgebraSizes


class LinearAlgebraDataModule(StreamingDataModule):
    """Matrices of floats and an operation on them (Charton 2022), generated on the fly."""

    settings = LinearAlgebraKnobs
    stream_defaults = {"batch_size": 64}  # noqa: RUF012 (read only)
    renamed = {"size": "rows", "min_size": "min_rows"}  # noqa: RUF012 (read only)
    min_rows: int | None = None
    """Train on every size from ``min_rows`` to ``rows`` at once, drawn uniformly (square, or with ``cols``
    rows and columns drawn independently, columns up to ``cols``)."""
    eval_by_size: bool = True
    """With ``min_rows``, also an evaluation set per size (``5x5``, ...), ``eval_size`` each."""
    eval_size: int = 1000
    """Problems of the ``valid`` evaluation set."""

    def build_task(self) -> LinearAlgebraTask | LinearAlgebraSizes:
        knobs = {f.name: getattr(self, f.name) for f in fields(LinearAlgebraKnobs)}
        if self.min_rows is None:
            return LinearAlgebraTask(**knobs)
        return LinearAlgebraSizes(**knobs, min_rows=self.min_rows)

    def check_knobs(self) -> None:
        super().check_knobs()
        check_int("eval_size", self.eval_size, 1)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: problems drawn like training ones, from ``eval_seed``; with a range of sizes, one set per
        size too (accuracy by size: how learning moves from small matrices to large ones)."""
        sets = {"valid": self.task.sample(self.eval_rng("valid"), self.eval_size)}
        if isinstance(self.task, LinearAlgebraSizes) and self.eval_by_size:
            for shape in self.task.shapes:
                name = "x".join(map(str, shape))
                sets[name] = self.task.sample_of_size(self.eval_rng(name), self.eval_size, shape)
        return sets
