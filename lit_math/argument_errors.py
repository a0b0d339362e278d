"""Bad command lines and config files in one line: the key, the value, what is allowed, a close match.

jsonargparse reports a misspelt `--data.bsae` or a `--data.base abc` as ~90 lines of usage and a nested "Does not
validate against any of the Union subtypes" block. The parser below reads that report and says the one thing in
it that matters; config files are checked (size, UTF-8, a YAML mapping) before jsonargparse reads them.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import itertools
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml
from lightning.pytorch.cli import LightningArgumentParser

from lit_math.errors import ConfigError, shown

MAX_CONFIG_BYTES = 1 << 20
"""Largest config file read: configs are a few hundred lines."""
FILE_OPTIONS = ("-c", "--config", "--trainer", "--model", "--data")
"""Options whose value may be a config file."""

TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "dict": "a mapping",
    "Mapping": "a mapping",
    "list": "a list",
}
_PARSER_KEY = re.compile(r'Parser key "([^"]+)"')
_CLASS_PATH = re.compile(r"Problem with given class_path '([^']+)'")
_NOT_ACCEPTED = re.compile(r"Option '([^']+)' is not accepted|does not accept option '([^']+)'")
_EXPECTED = re.compile(r"Expected a <class '([^']+)'>(?:\. Got value: (.*))?")
_GIVEN = re.compile(r"Given value: (.*)")


def _expected(name: str) -> str:
    return TYPE_NAMES.get(name.rsplit(".", 1)[-1], name)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _class(class_path: str) -> Any:
    module, _, name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None


def _init_parameters(cls: Any) -> list[str]:
    """The knobs of a config's class (what `--data.NAME` may name)."""
    try:
        return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs")]
    except (AttributeError, ValueError, TypeError):
        return []


def summarise(message: str, options: Iterable[str]) -> str:
    """One line from a jsonargparse error report; `options` are the parser's option strings (for close matches)."""
    options = list(options)
    unrecognised = re.search(r"unrecognized arguments: (\S+)", message)
    if unrecognised:
        word = unrecognised.group(1).split("=", 1)[0]
        return f"unknown option {shown(word)}{_did_you_mean(word, options)}"
    keys, class_path = [], None
    lines = [line.strip().removeprefix("- ") for line in message.splitlines()]
    for at, line in enumerate(lines):
        if key := _PARSER_KEY.search(line):
            keys += [part for part in key.group(1).split(".") if part != "init_args"]
        elif path := _CLASS_PATH.search(line):
            class_path = path.group(1)
        elif bad := _NOT_ACCEPTED.search(line):
            option = "--" + ".".join([*keys, bad.group(1) or bad.group(2)])
            if class_path:
                cls, owner = _class(class_path), class_path.rsplit(".", 1)[-1]
                renamed = getattr(cls, "renamed", {}).get(bad.group(1) or bad.group(2))  # DataModules' old knobs
                if renamed:
                    return f"{option} is now --{'.'.join([*keys, renamed])} ({owner} renamed it): rename it"
                knobs = [f"--{'.'.join([*keys, p])}" for p in _init_parameters(cls)]
                return f"{option} is not an option of {owner}{_did_you_mean(option, knobs)}"
            return f"unknown option {option}{_did_you_mean(option, options)}"
        elif (expected := _EXPECTED.search(line)) and expected.group(1) != "NoneType":
            given = expected.group(2)
            if given is None:  # a Union report: the value comes after the list of its types
                found = next((m for m in map(_GIVEN.search, lines[at:]) if m), None)
                given = found.group(1) if found else "?"
            option = "--" + ".".join(keys) if keys else "a value"
            return f"{option} must be {_expected(expected.group(1))}, got {shown(given)}"
    meaningful = [
        line.strip()
        for line in message.splitlines()
        if line.strip()
        and not line.strip().startswith(("Does not validate", "Subtypes:", "Errors:", "Given value", "- Expected a"))
    ]
    return meaningful[-1] if meaningful else message.strip() or "the command line could not be read"


class OneLineErrors(LightningArgumentParser):
    """LightningCLI's parser, whose errors are one line and a pointer to `--help`, exit code 2."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:  # a nested parser trying one type of a Union: jsonargparse goes on
            super().error(message, ex)
        if message.startswith("Unexpected config"):
            message = "the config is empty or not a mapping of sections (trainer:, model:, data:)"
        parsers = [self]  # and the subcommands' (a config file is read by the top parser)
        for action in self._actions:
            if isinstance(action.choices, dict):
                parsers += [p for p in action.choices.values() if isinstance(p, LightningArgumentParser)]
        options = [s for p in parsers for action in p._actions for s in action.option_strings if s.startswith("--")]
        line = summarise(message, options)
        parser = getattr(ex, "subcommand_parser", None) or self
        prog = parser.prog.replace(" [options]", "")
        sys.stderr.write(f"lit-math: error: {line}\n  ({prog} --help lists every option)\n")
        sys.exit(2)


def check_config_files(words: Sequence[str]) -> None:
    """Each config file named on the command line is small, UTF-8 and a YAML mapping (ConfigError otherwise),
    before jsonargparse reads it (it would raise a UnicodeDecodeError traceback, or say 'Unexpected config')."""
    pairs = [tuple(w.split("=", 1)) for w in words if w.startswith(tuple(f"{o}=" for o in FILE_OPTIONS))]
    for option, value in [*itertools.pairwise(words), *pairs]:
        if option not in FILE_OPTIONS or not Path(value).is_file():
            continue
        path = Path(value)
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{value}: {path.stat().st_size:,} bytes is too large for a config (at most 1 MiB)")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise ConfigError(f"{value}:{line}: not UTF-8 (is it a YAML config?)") from None
        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{value}{where}: not YAML: {getattr(error, 'problem', None) or error}") from None
        if content is None:
            raise ConfigError(f"{value} is empty: a config is a mapping of sections such as trainer:, model:, data:")
        if not isinstance(content, dict):
            raise ConfigError(f"{value} holds a {type(content).__name__}, not a mapping of sections (trainer:, data:)")
