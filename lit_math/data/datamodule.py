"""What every family's DataModule shares: the training stream, the fixed evaluation sets, the loaders."""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import types
import typing
import zlib
from abc import abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import lightning as L
import numpy as np
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import Dataset
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_math.data.pool import PoolStream, draw_pool
from lit_math.data.stream import EvaluationShard, HeldOut, StreamSampler, TrainingStream, WholeShard
from lit_math.errors import ConfigError, check_int
from lit_math.knobs import args_section, field_docs, inherited_docs
from lit_math.tasks import Problems, Task, count, take


@dataclass(kw_only=True)
class StreamKnobs:
    """The knobs of the training stream and evaluation sets, shared by every family (declared here only)."""

    epoch_size: int = 300_000
    """Training examples per epoch, over all devices (the GCD paper's epochs are 300000)."""
    batch_size: int = 256
    """Examples per batch and device."""
    num_workers: int = 0
    """Dataloader worker processes per device generating batches (0: in the main process)."""
    train_size: int | None = None
    """The finite regime: train on a fixed pool of this many distinct problems (drawn once from ``seed``, none
    from the evaluation sets), in a new order at each pass. Default: fresh problems always."""
    repeated_share: float = 1.0
    """With ``train_size``, the share of each batch taken from the pool; the rest is fresh ("two-class"
    sampling). Default 1: the pool only."""
    seed: int = 0
    """Seed of the training stream; every (seed, epoch, batch) has its own random stream."""
    eval_seed: int = 1_000_003
    """Seed of the evaluation sets, kept apart from ``seed`` so runs share their test problems."""


FAMILIES: dict[str, type[StreamingDataModule]] = {}
"""Every family's DataModule by class name: each registers itself when its module is imported."""


class StreamingDataModule(L.LightningDataModule):
    """Fresh training batches every epoch; evaluation sets built once from their own seed and held out.

    A family declares only what is its own: `settings`, the dataclass whose fields are its knobs (its task,
    usually), its evaluation knobs as annotated class attributes with a docstring each, and
    `build_eval_sets`. The subclass is then made a dataclass whose fields are those knobs and the stream's
    (`StreamKnobs`), so LightningCLI turns them into `--data.NAME` options with their docstrings as help, and
    Lightning saves them as the data's hyper-parameters (with `_class_path`) in every checkpoint. Everything
    about streams lives here. The evaluation sets serve validation, test and predict alike.
    """

    settings: ClassVar[type | None] = None
    """The dataclass whose fields are the family's knobs; `build_task` makes the task from them."""
    stream_defaults: ClassVar[dict[str, Any]] = {}
    """The family's own defaults for stream knobs (symbolic batches are small)."""
    without: ClassVar[tuple[str, ...]] = ()
    """Stream knobs that mean nothing for this family (files have no generator seed): not offered at all."""
    renamed: ClassVar[dict[str, str]] = {}
    """Knobs of earlier versions -> their new names, so an old config fails with one line naming the new key."""
    train_size = None  # the stream knobs a family may go `without`, at their neutral values
    repeated_share = 1.0
    eval_seed = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "settings" in cls.__dict__:  # a concrete family
            declare_knobs(cls)
            FAMILIES[cls.__name__] = cls

    def __post_init__(self) -> None:
        super().__init__()
        cls = type(self)
        self.save_hyperparameters({"_class_path": f"{cls.__module__}.{cls.__qualname__}", **self.knobs()})
        self.batch_size = check_int("batch_size", self.batch_size, 1)
        if self.epoch_size is not None:  # None: the family decides (files: one pass over the training file)
            check_int(f"epoch_size (at least batch_size={self.batch_size})", self.epoch_size, self.batch_size)
        check_int("num_workers", self.num_workers, 0)
        check_int("seed", self.seed, 0)
        check_int("eval_seed", self.eval_seed, 0)
        train_size, share = self.train_size, self.repeated_share
        if train_size is not None:
            check_int("train_size", train_size, 1)
        if not 0 < share <= 1 or (share < 1 and train_size is None):
            raise ConfigError(f"repeated_share must be in (0, 1], below 1 only with train_size; got {share}")
        if share < 1 and not 1 <= round(share * self.batch_size) < self.batch_size:
            raise ConfigError(
                f"repeated_share={share} of a batch of {self.batch_size} is {round(share * self.batch_size)} "
                "problems: a mixed batch needs at least one repeated and one fresh problem"
            )
        self._eval_problems: dict[str, Problems] | None = None
        self._pool: Problems | None = None
        self._held_out: HeldOut | None = None
        self.check_knobs()

    def knobs(self) -> dict[str, Any]:
        """Every knob of this data, by name (what a config or a checkpoint writes)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def check_knobs(self) -> None:
        """Checks the family's knobs at once (the task's are checked by building it)."""
        self.task  # noqa: B018

    @functools.cached_property
    def task(self) -> Task:
        return self.build_task()

    def build_task(self) -> Task:
        """The family's task, made from the knobs that are `settings` fields."""
        assert self.settings is not None
        return self.settings(**{f.name: getattr(self, f.name) for f in fields(self.settings) if f.init})

    @abstractmethod
    def build_eval_sets(self) -> dict[str, Problems]:
        """The named evaluation sets, each drawn from `eval_rng(name)`."""

    def eval_rng(self, name: str) -> np.random.Generator:
        """The generator of evaluation set `name`: its problems depend on `eval_seed` and its own knobs only."""
        return np.random.default_rng([self.eval_seed, zlib.crc32(name.encode())])

    @property
    def task_config(self) -> dict[str, Any]:
        """The task's configuration; the CLI links it to the model so both agree on the vocabulary."""
        return self.task.config()

    @property
    def eval_problems(self) -> dict[str, Problems]:
        if self._eval_problems is None:
            self._eval_problems = self.build_eval_sets()
        return self._eval_problems

    @property
    def held_out(self) -> HeldOut:
        """The evaluation sets' problems, which training never yields (built once)."""
        if self._held_out is None:
            self._held_out = HeldOut(self.task, list(self.eval_problems.values()))
        return self._held_out

    @property
    def evaluated_sets(self) -> dict[str, Problems]:
        """What validation scores: the held-out evaluation sets and, in the finite regime, `train_pool`, the
        first problems of the pool (as many as the first set): memorisation next to generalisation."""
        sets = dict(self.eval_problems)
        if self.train_size is not None:
            first = count(next(iter(sets.values())))
            sets["train_pool"] = take(self.pool, slice(0, first))
        return sets

    @property
    def eval_set_names(self) -> list[str]:
        return list(self.evaluated_sets)

    def _ranks(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    @staticmethod
    def _loader(dataset: Any, sampler: Any, num_workers: int = 0) -> StatefulDataLoader:
        return StatefulDataLoader(
            dataset, batch_size=None, sampler=sampler, num_workers=num_workers, persistent_workers=num_workers > 0
        )

    def train_dataloader(self) -> StatefulDataLoader:
        world, rank = self._ranks()
        batches = self.epoch_size // self.batch_size
        return self._loader(self.training_stream(batches, world), StreamSampler(batches, world, rank), self.num_workers)

    def training_stream(self, batches: int, world: int) -> Dataset:
        """The training batches, item `(epoch, index)` for index < `batches`, of which `world` ranks serve
        `batches // world * world` per epoch: fresh, or from the pool in the finite regime."""
        held_out = self.held_out
        self.check_problem_space(len(held_out))
        if self.train_size is None:
            return TrainingStream(self.task, self.batch_size, self.seed, held_out)
        repeated = round(self.repeated_share * self.batch_size)
        fresh = None if repeated == self.batch_size else TrainingStream(
            self.task, self.batch_size - repeated, self.seed, held_out
        )  # fmt: skip
        served = batches // world * world  # the sampler drops the rest: pool positions follow what is served
        rank_zero_info(
            f"finite regime: a pool of {self.train_size:,} problems, {repeated} per batch of {self.batch_size}: "
            f"each seen about every {self.train_size / (repeated * batches):.3g} epochs"
        )
        return PoolStream(self.task, self.pool, repeated, served, self.seed, fresh)

    def available_epochs(self, batches: int) -> int | None:
        """How many epochs of `batches` batches the training data holds (None: no end, it is generated)."""
        return None

    def stop_when_exhausted(self, epochs: int | None, what: str, examples: int) -> None:
        """Ends training after `epochs` epochs, where the training data (`what`, of `examples` examples over all
        its passes) runs out: an error when it cannot feed one, a warning when `max_epochs` asks for more."""
        if epochs is None:
            return
        if epochs == 0:
            raise ConfigError(
                f"{what} holds {examples} examples, less than one epoch (epoch_size={self.epoch_size}): lower "
                "epoch_size, or generate more"
            )
        trainer = self.trainer
        if trainer is not None and not 0 <= (trainer.max_epochs if trainer.max_epochs is not None else -1) <= epochs:
            rank_zero_warn(
                f"{what} is exhausted after {epochs} epochs of {self.epoch_size} examples: training stops there, "
                f"not at max_epochs={trainer.max_epochs}"
            )
            trainer.fit_loop.max_epochs = epochs

    def exclude(self, held_out: HeldOut) -> None:
        """Trains without these problems as well as the own evaluation sets' (a mixture holds out every
        member's evaluation problems from every member's training)."""
        self._held_out = HeldOut.union([self.held_out, held_out])

    @property
    def eval_tasks(self) -> dict[str, Task]:
        """The task that encodes and scores each evaluated set (one task here; a mixture's members have theirs)."""
        return dict.fromkeys(self.evaluated_sets, self.task)

    @property
    def pool(self) -> Problems:
        """The fixed training set of the finite regime (`train_size` distinct problems, none held out)."""
        if self.train_size is None:
            raise ConfigError("this data has no pool: set train_size for the finite regime")
        if self._pool is None:
            self._pool = draw_pool(self.task, self.train_size, self.seed, self.held_out)
        return self._pool

    def check_problem_space(self, held_out: int) -> None:
        """A task with few problems cannot feed an epoch of fresh ones (said at start-up) or a pool larger than
        it (an error)."""
        space = self.task.problem_space
        if space is None:
            return
        available = space - held_out
        if available <= 0:
            raise ConfigError(f"the evaluation sets hold all {space:,} problems of the task: none is left to train on")
        if self.train_size is None and self.epoch_size > available:
            rank_zero_warn(
                f"the task has {space:,} problems ({available:,} outside the evaluation sets), fewer than an epoch "
                f"of {self.epoch_size:,}: fresh draws will repeat them (sampling with replacement). For a fixed "
                f"training set seen pass after pass, set train_size (at most {available:,})"
            )
        if self.train_size is not None and self.train_size > available:
            raise ConfigError(
                f"train_size={self.train_size:,} is more than the {available:,} problems of the task outside the "
                "evaluation sets"
            )

    def _eval_dataloaders(self) -> list[StatefulDataLoader]:
        world, rank = self._ranks()
        loaders = []
        tasks = self.eval_tasks
        for name, problems in self.evaluated_sets.items():  # encoded once: no workers needed to serve them
            size = count(problems)
            if size < world:
                raise ConfigError(f"evaluation set {name!r} has {size} problems for {world} devices: give it more")
            shard = EvaluationShard(tasks[name], problems, self.batch_size, world, rank)
            loaders.append(self._loader(shard, WholeShard(len(shard))))
        return loaders

    def val_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()

    def test_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()

    def predict_dataloader(self) -> list[StatefulDataLoader]:
        return self._eval_dataloaders()


def declare_knobs(cls: type[StreamingDataModule]) -> None:
    """Makes the family `cls` a dataclass whose fields are, in this order, its `settings` fields, its own
    evaluation knobs (annotated attributes of it and its bases below StreamingDataModule) and the stream
    knobs, each with its docstring in the class's `Args:` (LightningCLI's help). Types are resolved where
    they were written; a `Literal` is offered as `str`, so the task's own check names the allowed values."""
    entries: dict[str, tuple[Any, Any, str]] = {}  # name -> (type, default, doc)

    def take_fields(source: type, defaults: dict[str, Any]) -> None:
        hints, docs = typing.get_type_hints(source), inherited_docs(source)
        for f in fields(source):
            if f.init and f.name not in entries:
                entries[f.name] = (hints[f.name], defaults.get(f.name, f.default), docs.get(f.name, ""))

    if cls.settings is not None:
        take_fields(cls.settings, {})
    for klass in reversed(cls.__mro__[: cls.__mro__.index(StreamingDataModule)]):
        own = inspect.get_annotations(klass)
        hints, docs = typing.get_type_hints(klass), field_docs(klass)
        for name in own:
            if typing.get_origin(hints[name]) is not ClassVar and name not in entries:
                entries[name] = (hints[name], klass.__dict__[name], docs.get(name, ""))
    take_fields(StreamKnobs, cls.stream_defaults)
    for name in cls.without:
        entries.pop(name)
    cls.__annotations__ = {name: _offered(kind) for name, (kind, _, _) in entries.items()}
    for name, (_, default, _) in entries.items():
        setattr(cls, name, field(default=default))
    summary = inspect.cleandoc(cls.__doc__ or "")
    cls.__doc__ = f"{summary}\n\n{args_section({n: d for n, (_, _, d) in entries.items()}, list(entries))}"
    dataclass(kw_only=True, eq=False, repr=False)(cls)


def _offered(kind: Any) -> Any:
    """The type of an option as the command line offers it: Literal choices become `str` (checked by the task)."""
    if typing.get_origin(kind) is typing.Literal:
        return str
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (types.UnionType, typing.Union) and any(
        typing.get_origin(a) is typing.Literal for a in args
    ):
        return str | None
    return kind


def data_families() -> list[type[StreamingDataModule]]:
    """Every family's DataModule (the classes a config's `class_path` may name)."""
    return list(FAMILIES.values())


def data_class(spec: dict[str, Any]) -> type[StreamingDataModule]:
    """The DataModule class a {"class_path": ..., "init_args": {...}} spec names, or a ConfigError."""
    class_path = spec.get("class_path", "") if isinstance(spec, dict) else ""
    module_path, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_path), name)
    except (ImportError, AttributeError, ValueError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, StreamingDataModule)):
        known = ", ".join(f"{c.__module__}.{c.__qualname__}" for c in data_families())
        raise ConfigError(f"data class_path {class_path!r} is not a lit_math DataModule; known: {known}")
    return cls


def migrated(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec saved by an earlier version (a checkpoint, which nobody edits) with its renamed knobs renamed."""
    cls = data_class(spec)
    init_args = {cls.renamed.get(name, name): value for name, value in spec.get("init_args", {}).items()}
    return {**spec, "init_args": init_args}


def data_from_spec(spec: dict[str, Any]) -> StreamingDataModule:
    """A DataModule from {"class_path": ..., "init_args": {...}}, as configs and checkpoints write it."""
    cls = data_class(spec)
    init_args = dict(spec.get("init_args", {}))
    known_knobs = {f.name for f in fields(cls)}
    for knob in init_args:
        if knob not in known_knobs:
            raise ConfigError(unknown_knob(cls, knob))
    return cls(**init_args)


def unknown_knob(cls: type[StreamingDataModule], knob: str) -> str:
    """One line for a knob `cls` does not have: its new name when it was renamed, else the close ones."""
    if knob in cls.renamed:
        return f"{cls.__name__}'s knob {knob!r} is now {cls.renamed[knob]!r}: rename it in the config"
    names = [f.name for f in fields(cls)]
    close = difflib.get_close_matches(knob, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; its knobs: {', '.join(names)}"
    return f"{knob!r} is not a knob of {cls.__name__}{hint}"
