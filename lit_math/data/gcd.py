"""The GCD family's DataModule: its knobs are the paper's training distributions (`GCDTask`'s fields)."""

from __future__ import annotations

import numpy as np

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.gcd import GCDTask


class GCDDataModule(StreamingDataModule):
    """Pairs of integers and their GCD, generated on the fly (Charton 2023)."""

    settings = GCDTask
    per_class: int = 1000
    """Evaluation set ``classes``: this many pairs with GCD exactly k, for each k in 1..classes."""
    classes: int | None = None
    """Largest GCD of the ``classes`` evaluation set (default 100 as in the paper, or max_int if smaller)."""
    natural_size: int = 10_000
    """Size of the ``natural`` evaluation set of uniform pairs."""

    def check_knobs(self) -> None:
        super().check_knobs()
        check_int("per_class", self.per_class, 0)
        if self.classes is not None:
            check_int("classes (at most max_int)", self.classes, 1, self.max_int)
        check_int("natural_size", self.natural_size, 0)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``natural``: uniform pairs; ``classes``: ``per_class`` pairs of GCD k for k = 1..classes.

        Both use uniform operands whatever the training law, as in the paper, so runs compare.
        """
        task: GCDTask = self.task
        rng = self.eval_rng("natural")
        sets = {
            "natural": {name: task.operand_values(rng, task.max_int, self.natural_size, "uniform") for name in "ab"}
        }
        ks = np.repeat(np.arange(1, (self.classes or task.largest_class) + 1), self.per_class)
        sets["classes"] = task.pairs_with_gcd(self.eval_rng("classes"), ks, "uniform")
        return {name: problems for name, problems in sets.items() if len(problems["a"])}
