"""DataModules of the symbolic families: integration (FWD, BWD, IBP) and ODEs, generated on the fly in
dataloader workers or streamed once from a corpus written by `lit-math generate`.

Evaluation sets take minutes of sympy to draw, so they are cached on disk (`$LIT_MATH_CACHE`, default
`~/.cache/lit_math`) under a hash of everything that decides them: the task, the seed, the set and its size.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import sympy
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import Dataset
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_math.data.corpus import CORPUS_EPOCH, Corpus, corpus_identity
from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.stream import StreamSampler, to_batch
from lit_math.errors import ConfigError, check_int
from lit_math.tasks import Problems
from lit_math.tasks.integration import IntegrationTask
from lit_math.tasks.ode import ODETask
from lit_math.tasks.symbolic import GENERATION_VERSION, SymbolicTask, pad_rows


def cache_dir() -> Path:
    return Path(os.environ.get("LIT_MATH_CACHE") or Path.home() / ".cache" / "lit_math")


def cached_problems(identity: dict[str, Any], make: Any) -> Problems:
    """`make()`, computed once per `identity` and kept in the cache directory (written atomically)."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
    path = cache_dir() / "eval_sets" / f"{digest}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}
    problems = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(partial, **problems)
    os.replace(partial, path)
    return problems


class CorpusStream(Dataset):
    """Item `(epoch, index)` is batch `epoch * batches_per_epoch + index` of one shuffled pass over a corpus."""

    def __init__(self, task: SymbolicTask, corpus: Corpus, batch_size: int, batches_per_epoch: int, seed: int) -> None:
        self.task, self.corpus, self.batch_size, self.batches_per_epoch = task, corpus, batch_size, batches_per_epoch
        self.order = np.random.default_rng([seed, CORPUS_EPOCH]).permutation(len(corpus))

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        epoch, index = key
        start = (epoch * self.batches_per_epoch + index) * self.batch_size
        rows = self.order[start : start + self.batch_size]
        if len(rows) < self.batch_size:
            raise IndexError(f"batch {key} is past the end of {self.corpus.directory}: the corpus is exhausted")
        problems, solutions = self.corpus.rows(rows)
        width = self.task.max_len
        return to_batch(self.task, {"problem": pad_rows(problems, width), "solution": pad_rows(solutions, width)})


class SymbolicDataModule(StreamingDataModule):
    """What the symbolic families share: the paper's expression knobs, a verified `valid` set, corpora.

    Args:
        max_ops: Operators of a random expression, uniform in 1..max_ops (the paper: 15).
        max_len: Longest problem or solution in tokens (the paper: 512); longer pairs are rejected.
        leaf_variable: Share of leaves that are variables (x, or an ODE's constants); the others small integers.
        max_leaf: Integer leaves lie in -max_leaf..max_leaf, without 0.
        operators: Operator weights, e.g. ``{add: 1, mul: 1, sin: 1}`` (default: the paper's).
        seconds: Time limit of every sympy call, in generation and verification (the paper: 3 s for FWD).
        source: A corpus written by ``lit-math generate``, streamed once instead of generating on the fly.
        eval_size: Problems of the ``valid`` evaluation set (drawn like training ones, never trained on).
        epoch_size: Training examples per epoch, over all devices.
        batch_size: Examples per batch and device.
        num_workers: Dataloader worker processes per device generating batches (0: in the main process).
        train_size: The finite regime: train on a fixed pool of this many distinct problems (drawn once from
            ``seed``, none from the evaluation sets), in a new order at each pass. Default: fresh problems always.
        repeated_share: With ``train_size``, the share of each batch taken from the pool; the rest is fresh
            ("two-class" sampling). Default 1: the pool only.
        seed: Seed of the training stream.
        eval_seed: Seed of the evaluation set, kept apart from ``seed`` so runs share their test problems.
    """

    def __init__(
        self,
        family_knobs: dict[str, Any],
        max_ops: int = 15,
        max_len: int = 512,
        leaf_variable: float = 0.75,
        max_leaf: int = 5,
        operators: dict[str, float] | None = None,
        seconds: float = 1.0,
        source: str | None = None,
        eval_size: int = 500,
        epoch_size: int = 50_000,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
        eval_seed: int = 1_000_003,
        train_size: int | None = None,
        repeated_share: float = 1.0,
    ) -> None:
        self.knobs = dict(
            family_knobs, max_ops=max_ops, max_len=max_len, leaf_variable=leaf_variable, max_leaf=max_leaf,
            operators=operators, seconds=seconds,
        )  # fmt: skip
        super().__init__(
            epoch_size=epoch_size, batch_size=batch_size, num_workers=num_workers, seed=seed, eval_seed=eval_seed,
            train_size=train_size, repeated_share=repeated_share,
        )  # fmt: skip
        if source is not None and train_size is not None:
            raise ConfigError(f"train_size draws a pool from the generator; source={source!r} is a corpus already")
        self.source = source
        self.eval_size = check_int("eval_size", eval_size, 1)
        self.corpus: Corpus | None = None

    @abstractmethod
    def build_task(self) -> SymbolicTask: ...

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: ``eval_size`` problems drawn like training ones (from ``eval_seed``), verified, cached."""
        identity = {
            "task": self.task.config(),
            "eval_seed": self.eval_seed,
            "set": "valid",
            "size": self.eval_size,
            "generation": [GENERATION_VERSION, sympy.__version__],
            "known": corpus_identity(self.task.known) if getattr(self.task, "known", None) else None,
        }
        return {"valid": cached_problems(identity, lambda: self.task.sample(self.eval_rng("valid"), self.eval_size))}

    def prepare_data(self) -> None:
        """Draws (and caches) the evaluation set once per node before the ranks start: generation depends on
        when sympy calls run out of time, so ranks drawing it each would hold out different sets."""
        self.eval_problems  # noqa: B018 (drawn and cached on first use)

    def setup(self, stage: str) -> None:
        if stage != "fit" or self.source is None:
            return
        if self.corpus is None:
            self.corpus = Corpus(self.source, self.task, self.held_out)
        batches = self.epoch_size // self.batch_size
        epochs = len(self.corpus) // (batches * self.batch_size)
        rank_zero_info(f"{self.corpus.describe()}: {epochs} epochs of {batches * self.batch_size} examples")
        if epochs == 0:
            raise ConfigError(
                f"the corpus {self.source} holds {len(self.corpus)} examples, less than one epoch (epoch_size="
                f"{self.epoch_size}): lower epoch_size or generate more"
            )
        trainer = self.trainer
        if trainer is not None and not 0 <= (trainer.max_epochs if trainer.max_epochs is not None else -1) <= epochs:
            rank_zero_warn(
                f"the corpus {self.source} is exhausted after {epochs} epochs of {self.epoch_size} examples (each "
                f"example once): training stops there, not at max_epochs={trainer.max_epochs}"
            )
            trainer.fit_loop.max_epochs = epochs

    def train_dataloader(self) -> StatefulDataLoader:
        if self.source is None:
            return super().train_dataloader()
        if self.corpus is None:
            raise ConfigError("the corpus is read in setup('fit'): train through a Trainer")
        world, rank = self._ranks()
        batches = self.epoch_size // self.batch_size
        stream = CorpusStream(self.task, self.corpus, self.batch_size, batches, self.seed)
        return self._loader(stream, StreamSampler(batches, world, rank), self.num_workers)


class IntegrationDataModule(SymbolicDataModule):
    """Functions and their antiderivatives (Lample & Charton 2020), generated on the fly or read from a corpus.

    Args:
        mode: ``fwd`` (integrate a random f with sympy), ``bwd`` (differentiate a random F) or ``ibp``
            (integration by parts).
        known: ``ibp`` only: a FWD or BWD corpus (``lit-math generate``) whose known integrals IBP joins
            (the paper's "previously generated pairs"); without it, IBP integrates with sympy.
        **kwargs: The symbolic families' knobs (``SymbolicDataModule``): max_ops, max_len, seconds, source, ...
    """

    def __init__(self, mode: str = "bwd", known: str | None = None, **kwargs: Any) -> None:
        super().__init__(dict(mode=mode, known=known), **kwargs)
        self.save_hyperparameters()

    def build_task(self) -> IntegrationTask:
        return IntegrationTask(**self.knobs)


class ODEDataModule(SymbolicDataModule):
    """Differential equations and their general solutions (Lample & Charton 2020), from random solutions.

    Args:
        order: 1 (ODE1) or 2 (ODE2).
        **kwargs: The symbolic families' knobs (``SymbolicDataModule``): max_ops, max_len, seconds, source, ...
    """

    def __init__(self, order: int = 1, **kwargs: Any) -> None:
        super().__init__(dict(order=order), **kwargs)
        self.save_hyperparameters()

    def build_task(self) -> ODETask:
        return ODETask(**self.knobs)
