"""The GCD family's DataModule: its knobs are the paper's training distributions."""

from __future__ import annotations

import numpy as np

from lit_math.data.datamodule import StreamingDataModule
from lit_math.errors import check_int
from lit_math.tasks import Problems
from lit_math.tasks.gcd import GCDTask


class GCDDataModule(StreamingDataModule):
    """Pairs of integers and their GCD, generated on the fly (Charton 2023).

    Args:
        base: Base in which integers are written (2..100000); the paper's best is 30, its worst 31.
        max_int: Operands lie in 1..max_int (M).
        operands: Operand law: ``uniform`` on 1..M, or ``loguniform`` (P(n) proportional to 1/n).
        outcomes: ``natural`` (independent operands, P(gcd=k) about 6/(pi^2 k^2)) or a law drawn first on
            1..max_outcome: ``inverse`` (1/k), ``inverse_sqrt``, ``inverse_1_5`` or ``uniform``.
        max_outcome: Largest GCD drawn by the outcome laws (default 100, or max_int if smaller).
        mixture: Share of training examples whose GCD is drawn uniformly in 1..max_outcome; the rest follow
            ``outcomes``.
        epoch_size: Training examples per epoch, over all devices (the paper's epochs are 300000).
        batch_size: Examples per batch and device.
        num_workers: Dataloader worker processes per device generating batches (0: in the main process).
        train_size: The finite regime: train on a fixed pool of this many distinct problems (drawn once from
            ``seed``, none from the evaluation sets), in a new order at each pass. Default: fresh problems always.
        repeated_share: With ``train_size``, the share of each batch taken from the pool; the rest is fresh
            ("two-class" sampling). Default 1: the pool only.
        seed: Seed of the training stream; every (seed, epoch, batch) has its own random stream.
        eval_seed: Seed of the evaluation sets, kept apart from ``seed`` so runs share their test problems.
        per_class: Evaluation set ``classes``: this many pairs with GCD exactly k, for each k in 1..classes.
        classes: Largest GCD of the ``classes`` evaluation set (default 100 as in the paper, or max_int if smaller).
        natural_size: Size of the ``natural`` evaluation set of uniform pairs.
    """

    def __init__(
        self,
        base: int = 10,
        max_int: int = 1_000_000,
        operands: str = "uniform",
        outcomes: str = "natural",
        max_outcome: int | None = None,
        mixture: float = 0.0,
        epoch_size: int = 300_000,
        batch_size: int = 256,
        num_workers: int = 0,
        seed: int = 0,
        eval_seed: int = 1_000_003,
        train_size: int | None = None,
        repeated_share: float = 1.0,
        per_class: int = 1000,
        classes: int | None = None,
        natural_size: int = 10_000,
    ) -> None:
        # Laws are plain strings checked by the task, so a wrong name is one line naming the allowed ones.
        self.knobs = dict(base=base, max_int=max_int, operands=operands, outcomes=outcomes, mixture=mixture)
        if max_outcome is not None:
            self.knobs["max_outcome"] = max_outcome
        elif isinstance(max_int, int):
            self.knobs["max_outcome"] = min(100, max_int)
        super().__init__(
            epoch_size=epoch_size, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed,
            train_size=train_size, repeated_share=repeated_share,
        )  # fmt: skip
        self.per_class = check_int("per_class", per_class, 0)
        self.classes = check_int(
            "classes (at most max_int)", min(100, max_int) if classes is None else classes, 1, max_int
        )
        self.natural_size = check_int("natural_size", natural_size, 0)
        self.save_hyperparameters()

    def build_task(self) -> GCDTask:
        return GCDTask(**self.knobs)

    def build_eval_sets(self) -> dict[str, Problems]:
        """``natural``: uniform pairs; ``classes``: ``per_class`` pairs of GCD k for k = 1..classes.

        Both use uniform operands whatever the training law, as in the paper, so runs compare.
        """
        task: GCDTask = self.task
        rng = self.eval_rng("natural")
        sets = {
            "natural": {name: task.operand_values(rng, task.max_int, self.natural_size, "uniform") for name in "ab"}
        }
        ks = np.repeat(np.arange(1, self.classes + 1), self.per_class)
        sets["classes"] = task.pairs_with_gcd(self.eval_rng("classes"), ks, "uniform")
        return {name: problems for name, problems in sets.items() if len(problems["a"])}
