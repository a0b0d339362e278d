"""DataModules of the symbolic families: integration (FWD, BWD, IBP) and ODEs, generated on the fly in
dataloader workers or streamed once from a corpus written by `lit-math generate`."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import sympy
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import Dataset

from lit_math.data.corpus import Corpus, CorpusStream
from lit_math.data.datamodule import StreamingDataModule
from lit_math.data.eval_cache import cached_problems
from lit_math.data.published import read_published
from lit_math.data.typed import is_typed, read_typed
from lit_math.errors import ConfigError, check_int
from lit_math.shards import corpus_identity
from lit_math.tasks import Problems
from lit_math.tasks.base import padded_rows
from lit_math.tasks.integration import IntegrationTask
from lit_math.tasks.ode import ODETask
from lit_math.tasks.symbolic import GENERATION_VERSION, IDS, REJECTIONS


class SymbolicDataModule(StreamingDataModule):
    """What the symbolic families share besides their task's knobs: a verified `valid` set, and corpora."""

    stream_defaults = {"epoch_size": 50_000, "batch_size": 32}  # noqa: RUF012 (read only)
    source: str | None = None
    """A corpus streamed once instead of generating on the fly: a folder written by ``lit-math generate``, or
    a file (or a folder of ``.train`` files) published by Lample & Charton (2020), ``COUNT|PROBLEM<TAB>SOLUTION``."""
    passes: int = 1
    """Passes over the corpus ``source``, each in its own order (the paper's models saw each pair about once;
    a small corpus can be seen several times)."""
    eval_size: int = 500
    """Problems of the ``valid`` evaluation set (drawn like training ones, never trained on), or the first
    problems of each of ``eval_files``."""
    eval_files: dict[str, str] | None = None
    """Evaluation sets read from files instead of drawn, by name, e.g. ``{valid: prim_fwd.valid, textbook:
    configs/integration/textbook_integrals.txt}``: published corpora, or problems typed in infix (a ``.txt`` or
    ``.infix`` file, a reference answer after a TAB); their problems are never trained on."""

    def check_knobs(self) -> None:
        super().check_knobs()
        if self.source is not None and self.train_size is not None:
            raise ConfigError(f"train_size draws a pool from the generator; source={self.source!r} is a corpus already")
        check_int("eval_size", self.eval_size, 1)
        check_int("passes", self.passes, 1)
        if self.passes > 1 and self.source is None:
            raise ConfigError(f"passes={self.passes} is for a corpus (source); generated examples are always fresh")
        if self.eval_files is not None:
            if not self.eval_files:
                raise ConfigError("eval_files names at least one file, e.g. {valid: prim_fwd.valid}")
            missing = {name: path for name, path in self.eval_files.items() if not Path(path).is_file()}
            if missing:
                raise ConfigError(f"eval_files: no such file {missing}")
        self.corpus: Corpus | None = None

    def build_eval_sets(self) -> dict[str, Problems]:
        """``valid``: ``eval_size`` problems drawn like training ones (from ``eval_seed``), verified, cached;
        or the first ``eval_size`` problems of each of ``eval_files``."""
        if self.eval_files is not None:
            return {name: self._read_eval_file(Path(path)) for name, path in self.eval_files.items()}
        known = self.task.config().get("known")  # IBP joins a corpus: the set depends on its contents
        identity = {
            "task": self.task.config(),
            "eval_seed": self.eval_seed,
            "set": "valid",
            "size": self.eval_size,
            "generation": [GENERATION_VERSION, sympy.__version__],
            "known": corpus_identity(known) if known else None,
        }
        return {"valid": cached_problems(identity, lambda: self.task.sample(self.eval_rng("valid"), self.eval_size))}

    def _read_eval_file(self, path: Path) -> Problems:
        if is_typed(path):
            typed = read_typed(path, self.task, self.eval_size)
            rank_zero_info(f"{path}: {typed.lines} problems typed in infix evaluated; {typed.describe()}")
            return typed.problems
        read = read_published(path, self.task)
        kept = min(self.eval_size, len(read.problem_offsets) - 1)
        rank_zero_info(f"{path}: {kept} problems evaluated of {read.lines} lines; {read.describe()}")
        problems = [read.problems[a:b] for a, b in itertools.pairwise(read.problem_offsets[: kept + 1])]
        solutions = [read.solutions[a:b] for a, b in itertools.pairwise(read.solution_offsets[: kept + 1])]
        return {
            "problem": padded_rows(problems, self.task.max_len, IDS),
            "solution": padded_rows(solutions, self.task.max_len, IDS),
            "rejected": np.zeros((kept, len(REJECTIONS)), dtype=np.int32),
        }

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
        epochs = self.available_epochs(batches)
        passes = f"{self.passes} passes" if self.passes > 1 else "one pass"
        rank_zero_info(f"{self.corpus.describe()}: {passes}, {epochs} epochs of {batches * self.batch_size} examples")
        self.stop_when_exhausted(epochs, f"the corpus {self.source} ({passes})", self.passes * len(self.corpus))

    def available_epochs(self, batches: int) -> int | None:
        if self.source is None:
            return None
        if self.corpus is None:
            raise ConfigError("the corpus is read in setup('fit'): train through a Trainer")
        return self.passes * len(self.corpus) // (batches * self.batch_size)

    def training_stream(self, batches: int, world: int) -> Dataset:
        if self.source is None:
            return super().training_stream(batches, world)
        if self.corpus is None:
            raise ConfigError("the corpus is read in setup('fit'): train through a Trainer")
        return CorpusStream(self.task, self.corpus, self.batch_size, batches, self.seed, self.passes)


class IntegrationDataModule(SymbolicDataModule):
    """Functions and their antiderivatives (Lample & Charton 2020), generated on the fly or read from a corpus."""

    settings = IntegrationTask


class ODEDataModule(SymbolicDataModule):
    """Differential equations and their general solutions (Lample & Charton 2020), from random solutions."""

    settings = ODETask
