"""`lit-math`: LightningCLI's fit / validate / test / predict, plus `translate`, `report`, `cross-eval`, `generate`,
`sweep`."""

from __future__ import annotations

import inspect
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from jsonargparse import DefaultHelpFormatter, Namespace
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.plugins.io import CheckpointIO
from lightning.pytorch.utilities import rank_zero_warn
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from lit_math.argument_errors import OneLineErrors, check_config_files
from lit_math.callbacks import ExamplesPerSecond, GenerationStats, MixtureShares, ScalarsLayout, WritePredictions
from lit_math.checkpoint import check_same_network, model_settings, read_checkpoint, saved_data, trained_on
from lit_math.checkpoint_io import AtomicCheckpointIO
from lit_math.data import StreamingDataModule, data_families
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.model.network import network_from_config
from lit_math.process import EVALUATION_NOISE, SIGTERM, Terminated, quiet_third_party, stop_at_once_on_sigterm

DESCRIPTION = """Mathematics as translation: train and evaluate seq2seq transformers on generated problems.

  lit-math fit --config configs/gcd/base30.yaml          train (resume with --ckpt_path)
  lit-math validate|test|predict --ckpt_path CKPT        evaluate a checkpoint (on its own data by default)
  lit-math translate --ckpt CKPT 10 32                   the model's answer to one problem (translate --help)
  lit-math report RUN_DIR [--format markdown] [--png F]  what a run learned: GCD table, error analysis (--help)
  lit-math cross-eval --ckpt A --ckpt B --data X.yaml    every checkpoint on every data (cross-eval --help)
  lit-math generate --config X.yaml --n N --out DIR      write a training corpus in shards (generate --help)
  lit-math sweep --config X.yaml --grid K=A,B --out D     a fit per grid point, then their summary (sweep --help)
"""


EVALUATION_KNOBS = ("beam_size", "length_penalty", "beam_early_stopping", "eval_max_len")
"""Model settings that only change decoding: a checkpoint may be evaluated with others."""


def _setting(value: Any) -> Any:
    """A model setting in a form that compares: a network given on the command line (a Namespace) and as a
    checkpoint saved it (a dict, its class_path spelt either way) are the same `Network`."""
    value = value.as_dict() if isinstance(value, Namespace) else value
    return network_from_config(value) if isinstance(value, dict) and "class_path" in value else value


class LitMathCLI(LightningCLI):
    """Links the data's task to the model; always adds checkpointing, the examples/s meter, the prediction writer.

    With `--ckpt_path`, the model's settings come from the checkpoint (a different value given on the command
    line or in a config is an error, never silently replaced; decoding knobs such as beam_size may differ), the
    data's too when none is given, and a checkpoint whose network does not fit the data is refused before
    anything runs or is written.
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.task_config", "model.task", apply_on="instantiate")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.filename": "{epoch}-{step}"})
        parser.add_lightning_class_args(ExamplesPerSecond, "throughput")
        parser.add_lightning_class_args(WritePredictions, "predictions")
        parser.add_lightning_class_args(GenerationStats, "generation_stats")
        parser.add_lightning_class_args(MixtureShares, "shares")
        parser.add_lightning_class_args(ScalarsLayout, "layout")
        parser.add_argument(
            "--logdir",
            type=str | None,
            default=None,
            help="validate/test/predict: also log to TensorBoard under this folder (by default they write no run "
            "folder); fit logs where its config's logger says",
        )
        parser.epilog = family_knobs()

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        """Parses the command line; with `--ckpt_path`, the checkpoint's data when none is given, and its model
        settings (see `_with_checkpoint_model`)."""
        words = list(sys.argv[1:] if args is None else args)
        read: dict[str, dict[str, Any]] = {}  # each checkpoint read once (a paper-size one is hundreds of MB)

        def checkpoint(path: str) -> dict[str, Any]:
            if path not in read:
                read[path] = read_checkpoint(path)
            return read[path]

        ckpt_path = _option(words, "--ckpt_path")
        given_data = any(w in ("-c", "--config", "--data") or w.startswith(("--config=", "--data=")) for w in words)
        if ckpt_path and not given_data and words[:1] != ["fit"]:  # evaluate a checkpoint on its own data
            data = saved_data(checkpoint(ckpt_path))
            if data is None:
                raise ConfigError(f"{ckpt_path} does not record its data settings: give --config or --data")
            overrides = next((i for i, w in enumerate(words) if w.startswith("--data.")), len(words))
            words[overrides:overrides] = ["--data", json.dumps(data)]  # --data.base 10 then applies on top
        self.config = parser.parse_args(words)
        subcommand = self.config.get("subcommand")
        self._ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if self._ckpt_path:  # given on the command line or in a config file
            saved = checkpoint(self._ckpt_path)
            self.config = self._with_checkpoint_model(parser, subcommand, saved)
            self._trained_on = trained_on(saved)
            # LightningCLI, right after this method (in its private `_parse_ckpt_path`), loads the file at
            # `ckpt_path` a second time and parses all its hyper-parameters over the config: the decoding knobs
            # asked for would be silently replaced by the checkpoint's (`validate --model.beam_size 2` would
            # decode with a beam of 1). The checkpoint's settings are merged above, conflicts refused, so that
            # step is left nothing to read: the path is out of the config until `before_instantiate_classes`
            # puts it back for the Trainer's fit/validate/test/predict.
            self.config[subcommand].ckpt_path = None

    def _with_checkpoint_model(
        self, parser: LightningArgumentParser, subcommand: str, checkpoint: dict[str, Any]
    ) -> Namespace:
        """The config with the checkpoint's model settings; a setting given that differs from the checkpoint's
        is a ConfigError naming it, except the decoding knobs (EVALUATION_KNOBS), for which the value given wins."""
        model = model_settings(checkpoint)
        given = self.config[subcommand].model
        defaults = {name: p.default for name, p in inspect.signature(Seq2SeqModule.__init__).parameters.items()}
        chosen = {name for name in model if name in given and given[name] != defaults.get(name)}
        model = {name: value for name, value in model.items() if name not in chosen & set(EVALUATION_KNOBS)}
        conflicts = [
            f"{name}={_setting(given[name])!r} (checkpoint: {_setting(value)!r})"
            for name, value in model.items()
            if name in chosen and _setting(given[name]) != _setting(value)
        ]
        if conflicts:
            raise ConfigError(
                f"the configuration asks for model {', '.join(conflicts)}; leave them out to use the checkpoint's"
            )
        return parser.parse_object({subcommand: {"model": model}}, self.config)

    def before_instantiate_classes(self) -> None:
        """The checkpoint path taken out of the config in `parse_arguments` goes back in, for the Trainer."""
        if getattr(self, "_ckpt_path", None):
            self.config[self.config.subcommand].ckpt_path = self._ckpt_path

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        """Evaluations log only with --logdir and write no checkpoint; `--trainer.enable_checkpointing false`
        (the checkpoint callback this CLI adds is left out) and `--trainer.logger false` (a LearningRateMonitor,
        which needs a logger, is dropped) are honoured; checkpoints are written atomically (AtomicCheckpointIO)
        unless the config names its own CheckpointIO; a GPU asked for where there is none is one line."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        settings = config["trainer"]
        if self.subcommand == "fit" and config.get("logdir"):
            raise ConfigError("--logdir is for evaluations; fit logs to --trainer.logger.init_args.save_dir")
        if self.subcommand not in (None, "fit"):  # an evaluation writes no run folder unless asked
            for message in EVALUATION_NOISE:
                warnings.filterwarnings("ignore", message=message)
            logdir = config.get("logdir")
            settings["logger"] = TensorBoardLogger(logdir, name=self.subcommand) if logdir else False
            settings["enable_checkpointing"] = False
        plugins = settings.get("plugins") or []
        plugins = list(plugins) if isinstance(plugins, list) else [plugins]
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            settings["plugins"] = [*plugins, AtomicCheckpointIO()]
        if settings.get("enable_checkpointing") is False:
            config["checkpoint"] = NoCheckpoint()
        if settings.get("logger") is False and settings.get("callbacks"):
            monitors = [c for c in settings["callbacks"] if isinstance(c, LearningRateMonitor)]
            if monitors:
                rank_zero_warn(
                    "--trainer.logger false: the config's LearningRateMonitor is left out (nothing to log to)"
                )
                settings["callbacks"] = [c for c in settings["callbacks"] if c not in monitors]
        accelerator = settings.get("accelerator")
        if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
            raise ConfigError(
                f"--trainer.accelerator {accelerator}: no CUDA GPU is available here; use --trainer "
                "configs/trainer/cpu.yaml (or --trainer.accelerator cpu)"
            )
        try:
            return super().instantiate_trainer(**kwargs)
        except MisconfigurationException as error:  # Lightning's word on trainer settings that do not go together
            raise ConfigError(f"the trainer settings do not go together: {error}") from None

    def after_fit(self) -> None:
        """One line that says where the run went, and what is there."""
        trainer = self.trainer
        log_dir = trainer.log_dir  # a broadcast under DDP: every rank asks
        if not trainer.is_global_zero or log_dir is None or trainer.logger is None:
            return
        folder = Path(log_dir)
        files = sorted(
            str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "tfevents" not in p.name
        )
        events = "TensorBoard events, " if any(folder.glob("events.out.tfevents*")) else ""
        print(f"lit-math: run folder {folder}: {events}{', '.join(files) or 'no other files'}")

    def after_validate(self) -> None:
        self._said_where("validate")

    def after_test(self) -> None:
        self._said_where("test")

    def after_predict(self) -> None:
        folder = self.config_init[self.subcommand]["predictions"].folder(self.trainer)  # log_dir: every rank asks
        if self.trainer.is_global_zero:
            print(f"lit-math: predictions written to {folder}/ (one .jsonl per evaluation set)")
        if self.trainer.logger is not None:
            self._said_where("predict")

    def _said_where(self, subcommand: str) -> None:
        logger = self.trainer.logger
        where = f"logged to {logger.log_dir}" if logger is not None else "no files written (--logdir DIR logs)"
        if self.trainer.is_global_zero:
            print(f"lit-math: {subcommand}: {where}")

    def instantiate_classes(self) -> None:
        """The classes, and a checkpoint whose network does not fit the data refused before anything runs."""
        super().instantiate_classes()
        if getattr(self, "_trained_on", None) is not None:
            check_same_network(self._trained_on, self.datamodule.task)


class NoCheckpoint(L.Callback):
    """Stands in the CLI's checkpoint slot when checkpointing is turned off (a ModelCheckpoint there would be an
    error for the Trainer)."""


class SaveFitConfig(SaveConfigCallback):
    """Saves the resolved config of `fit` runs in their log directory; evaluations write no config anywhere."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit":
            super().setup(trainer, pl_module, stage)


def _option(words: list[str], name: str) -> str | None:
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


class _KeepEpilogLines(DefaultHelpFormatter):
    """Keeps the line breaks of the family knobs listed after the options."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "".join(indent + line for line in text.splitlines(keepends=True))


def family_knobs() -> str:
    """Every problem family's data knobs, for `lit-math fit --help` (subclass mode would hide them)."""
    sections = []
    for family in data_families():
        name = f"{family.__module__.rsplit('.', 1)[0]}.{family.__name__}"
        doc = inspect.getdoc(family) or ""
        sections.append(f"--data {name} (all options: --data.help {family.__name__})\n{doc}")
    return "Problem families (knobs are --data.init_args.NAME, or --data.NAME):\n\n" + "\n\n".join(sections)


def _config_error(error: BaseException) -> ConfigError | None:
    """The ConfigError behind `error`, if any (jsonargparse wraps errors raised while instantiating)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, ConfigError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def build_cli(args: Sequence[str] | None = None, run: bool = True) -> LitMathCLI:
    """The LightningCLI of `lit-math` (with `run=False`: parse and instantiate only, for checks)."""
    return LitMathCLI(
        Seq2SeqModule,
        StreamingDataModule,
        subclass_mode_data=True,
        args=None if args is None else list(args),
        run=run,
        save_config_callback=SaveFitConfig,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
        parser_kwargs={"prog": "lit-math", "formatter_class": _KeepEpilogLines, "description": DESCRIPTION},
        parser_class=OneLineErrors,
        seed_everything_default=0,  # Lightning's default, 0 all the same, but without its "No seed found" warning
    )


def main(argv: Sequence[str] | None = None) -> None:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["translate"]:
        from lit_math.translate import main as translate

        sys.exit(translate(words[1:]))
    if words[:1] == ["report"]:
        from lit_math.report import report

        sys.exit(report(words[1:]))
    if words[:1] == ["generate"]:
        from lit_math.generate import main as generate

        sys.exit(generate(words[1:]))
    if words[:1] == ["cross-eval"]:
        from lit_math.cross_eval import main as cross_eval

        sys.exit(cross_eval(words[1:]))
    if words[:1] == ["sweep"]:
        from lit_math.sweep import main as sweep

        sys.exit(sweep(words[1:]))
    torch.set_float32_matmul_precision("high")
    quiet_third_party()
    stop_at_once_on_sigterm()
    try:
        check_config_files(words)
        build_cli(argv)
    except Terminated:
        print("lit-math: stopped by SIGTERM", file=sys.stderr)
        sys.exit(128 + SIGTERM)
    except Exception as error:
        cause = _config_error(error)
        if cause is None:
            raise
        print(f"lit-math: error: {cause}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
