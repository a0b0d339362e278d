"""`lit-math`: LightningCLI's fit / validate / test / predict, plus `translate` to query a checkpoint."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence

import torch
from jsonargparse import DefaultHelpFormatter
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from lit_math.callbacks import ExamplesPerSecond, WritePredictions
from lit_math.data import StreamingDataModule
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule


class LitMathCLI(LightningCLI):
    """Links the data's task to the model; always adds checkpointing, the examples/s meter, the prediction writer."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.task_config", "model.task", apply_on="instantiate")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.filename": "{epoch}-{step}"})
        parser.add_lightning_class_args(ExamplesPerSecond, "throughput")
        parser.add_lightning_class_args(WritePredictions, "predictions")
        parser.epilog = family_knobs()

    def _parse_ckpt_path(self) -> None:
        # The checkpoint's task is checked against the data's when the weights load (a clear error if
        # they differ); it cannot be a parsed value since the data provides it.
        if not self.config.get("subcommand"):
            return
        ckpt_path = self.config[self.config.subcommand].get("ckpt_path")
        if ckpt_path:
            _readable_checkpoint(ckpt_path)
        super()._parse_ckpt_path()


class _KeepEpilogLines(DefaultHelpFormatter):
    """Keeps the line breaks of the family knobs listed after the options."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "".join(indent + line for line in text.splitlines(keepends=True))


def family_knobs() -> str:
    """Every problem family's data knobs, for `lit-math fit --help` (subclass mode would hide them)."""
    sections = []
    for family in StreamingDataModule.__subclasses__():
        name = f"{family.__module__.rsplit('.', 1)[0]}.{family.__name__}"
        doc = inspect.getdoc(family) or ""
        sections.append(f"--data {name} (all options: --data.help {family.__name__})\n{doc}")
    return "Problem families (knobs are --data.init_args.NAME, or --data.NAME):\n\n" + "\n\n".join(sections)


def _readable_checkpoint(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise SystemExit(f"lit-math: cannot read checkpoint {path!r}: {error.strerror}") from None


def translate(argv: Sequence[str]) -> int:
    """Print the model's answer to one problem given as words (for GCD: two integers)."""
    parser = argparse.ArgumentParser(prog="lit-math translate", description=translate.__doc__)
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `lit-math fit`")
    parser.add_argument("--device", default="cpu", help="torch device to run on (default: cpu)")
    parser.add_argument("problem", nargs="+", help="the problem, e.g. `10 32` for gcd(10, 32)")
    args = parser.parse_args(argv)
    _readable_checkpoint(args.ckpt)
    module = Seq2SeqModule.load_from_checkpoint(args.ckpt, map_location=args.device).eval()
    try:
        problems = module.task.parse_problem(args.problem)
    except ValueError as error:
        parser.error(str(error))
    hypotheses, answers = module.translate(problems)
    source, _ = module.task.encode(problems)
    print(answers[0])
    print("source:", " ".join(module.vocabulary.words(source[0])))
    print("output:", " ".join(module.vocabulary.words(hypotheses[0])))
    return 0


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
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
        parser_kwargs={"formatter_class": _KeepEpilogLines},
    )


def main(argv: Sequence[str] | None = None) -> None:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["translate"]:
        sys.exit(translate(words[1:]))
    torch.set_float32_matmul_precision("high")
    try:
        build_cli(argv)
    except Exception as error:
        cause = _config_error(error)
        if cause is None:
            raise
        print(f"lit-math: error: {cause}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
