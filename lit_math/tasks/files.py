"""Your own data: examples read from text files whose input and output have declared types (Int2Int's format).

A line is input tokens, a tab, output tokens (whitespace between tokens). A side's type is a comma-separated
list of items, written one after the other:
  int          a sign then base-B digits (`- 3 500` is -3500 in base 1000)
  int[n]       `Vn` then n ints
  range(a,b)   one token, an integer in a..b-1 written in base 10 (a class, a rank); range(b) is range(0,b)
  float        a number in the float encoding (P10, P1000, B1999, FP15)
  float[n]     `Vn` then n floats
  tokens       any tokens (alone on its side): no structure, scored by exact match
`int[5]:range(2)` is Int2Int's elliptic-curve example. Scoring follows the output type: integers and ranges
exactly, floats by relative L1 error under a tolerance, so a float answer need not repeat the reference's
last digit.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import SPECIAL_TOKENS, DecodeError, IntegerCodec, Vocabulary
from lit_math.encoding.floats import FloatCodec
from lit_math.errors import ConfigError, check_choice, check_int, shown
from lit_math.tasks.base import Problems, Task, padded_rows, relative_l1, row_keys

ITEM = re.compile(r"^(int|float)(\[(\d+)\])?$|^range\((-?\d+)(?:,(-?\d+))?\)$|^tokens$")
TYPES_HELP = "int, int[n], range(a,b), range(b), float, float[n], tokens (comma-separated; input:output)"


@dataclass(frozen=True)
class Item:
    kind: str
    """int, float, range or tokens."""
    length: int | None = None
    """n of int[n] / float[n]; None for one number."""
    low: int = 0
    high: int = 0


def parse_side(text: str) -> tuple[Item, ...]:
    items = []
    for word in re.split(r",(?![^(]*\))", text.replace(" ", "")):  # commas between items, not in range(a,b)
        match = ITEM.match(word)
        if match is None:
            raise ConfigError(f"{word!r} is not a data type; known: {TYPES_HELP}")
        if word.startswith("range"):
            low, high = (
                (0, int(match.group(4))) if match.group(5) is None else (int(match.group(4)), int(match.group(5)))
            )
            if high <= low:
                raise ConfigError(f"{word}: the range is empty")
            items.append(Item("range", None, low, high))
        elif word == "tokens":
            items.append(Item("tokens"))
        else:
            items.append(Item(match.group(1), None if match.group(3) is None else int(match.group(3))))
    if any(i.kind == "tokens" for i in items) and len(items) > 1:
        raise ConfigError(f"{text!r}: tokens takes a whole side")
    for first, second in itertools.pairwise(items):
        if first.kind == "int" and second.kind == "range":  # its digits would read as the int's
            raise ConfigError(f"{text!r}: a range right after an int cannot be told from the int's last digits")
    return tuple(items)


def parse_types(types: str) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """`IN:OUT` -> (input items, output items)."""
    sides = types.split(":")
    if len(sides) != 2:
        raise ConfigError(f"data types are written input:output, e.g. int[5]:range(2); got {types!r}")
    return parse_side(sides[0]), parse_side(sides[1])


CLASSES_BY = ("answer", "length")


@dataclass(frozen=True)
class FileFormat:
    """How the lines of a data file are read: the knobs a user gives (the files decide the rest)."""

    types: str = "tokens:tokens"
    """``input:output`` types, e.g. ``int[5]:range(2)``, ``int,int:int``, ``float[3]:float``, ``tokens:tokens``:
    int (sign and base-B digits), int[n] (``Vn`` then n ints), range(a,b) (one base-10 token), float (the float
    ``encoding``), float[n], tokens (anything; exact match)."""
    base: int = 1000
    """Base of the integers (Int2Int's default is 1000)."""
    encoding: str = "P1000"
    """Float encoding: ``P10``, ``P1000``, ``B1999`` or ``FP15``."""
    tolerance: float = 0.05
    """Relative L1 error under which float answers are right (integers are exact)."""
    classes_by: str | None = None
    """Classes of the per-class metrics: ``answer`` (the answer's value, as Int2Int prints accuracy per GCD or
    residue; one int or range output) or ``length`` (of the problem). Default: answer where it can, else length."""


@dataclass(frozen=True)
class FileTask(FileFormat, Task):
    """Examples from files, typed (see the module doc); problems are token-id rows, as in the symbolic families."""

    family: ClassVar[str] = "data"
    source_len: int = 64
    """Longest input in tokens (the files decide it)."""
    target_len: int = 64
    """Longest output in tokens (the files decide it)."""
    tokens: tuple[str, ...] = ()
    """Tokens of `tokens` sides, as found in the files (the typed sides' tokens follow from the types)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))  # a list from a checkpoint's config
        self.vocabulary  # noqa: B018 (checks the types, base and encoding)
        if not 0 < self.tolerance < 1:
            raise ConfigError(f"tolerance must be in (0, 1), got {self.tolerance}")
        check_int("source_len", self.source_len, 1)
        check_int("target_len", self.target_len, 1)
        if self.classes_by is not None:
            check_choice("classes_by", self.classes_by, CLASSES_BY)
            if self.classes_by == "answer" and self._answer_item() is None:
                raise ConfigError(f"classes_by answer needs one int or range output; the types are {self.types}")

    @functools.cached_property
    def sides(self) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
        return parse_types(self.types)

    @property
    def inputs(self) -> tuple[Item, ...]:
        return self.sides[0]

    @property
    def outputs(self) -> tuple[Item, ...]:
        return self.sides[1]

    @functools.cached_property
    def integers(self) -> IntegerCodec:
        return IntegerCodec(self.base)

    @functools.cached_property
    def floats(self) -> FloatCodec:
        return FloatCodec(self.encoding, 100)

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:  # type: ignore[override]
        words: list[str] = []
        for item in (*self.inputs, *self.outputs):
            if item.length is not None:
                words.append(f"V{item.length}")
            words += {
                "int": self.integers.tokens,
                "float": self.floats.tokens,
                "range": [str(v) for v in range(item.low, item.high)],
                "tokens": list(self.tokens),
            }[item.kind]
        return Vocabulary(dict.fromkeys(words))

    @functools.cached_property
    def known(self) -> frozenset[str]:
        return frozenset(self.vocabulary.tokens[len(SPECIAL_TOKENS) :])

    @property
    def max_source_len(self) -> int:  # type: ignore[override]
        return self.source_len + 1

    @property
    def max_target_len(self) -> int:  # type: ignore[override]
        return self.target_len + 2

    def config(self) -> dict[str, Any]:
        return {**super().config(), "tokens": list(self.tokens)}

    # --- reading typed token sequences -----------------------------------------------------------------
    def read(self, words: Sequence[str], items: Sequence[Item]) -> list[int | float | str]:
        """The values of a side (ValueError naming what is wrong): ints, floats, range values, or the tokens."""
        if items[0].kind == "tokens":
            return list(words)
        values: list[int | float | str] = []
        at = 0
        for item in items:
            count = 1
            if item.length is not None:
                if at >= len(words) or words[at] != f"V{item.length}":
                    raise ValueError(f"expected V{item.length} at token {at + 1}")
                at, count = at + 1, item.length
            for _ in range(count):
                if at >= len(words):
                    raise ValueError(f"ends early: expected {item.kind} at token {at + 1}")
                if item.kind == "range":
                    if not re.fullmatch(r"-?[0-9]+", words[at]) or not item.low <= int(words[at]) < item.high:
                        raise ValueError(f"{shown(words[at])} is not in range({item.low},{item.high})")
                    values.append(int(words[at]))
                    at += 1
                elif item.kind == "float":
                    value, at = self.floats.read(words, at)
                    values.append(value)
                else:
                    end = at + 1
                    while end < len(words) and words[end].isdigit():
                        end += 1
                    try:
                        values.append(self.integers.decode(words[at:end]))
                    except DecodeError as error:
                        raise ValueError(str(error)) from None
                    at = end
        if at != len(words):
            raise ValueError(f"{len(words) - at} tokens left after the declared types")
        return values

    def ids(self, words: Sequence[str]) -> list[int]:
        """Vocabulary ids of a side's tokens (ValueError for a token the types do not allow)."""
        unknown = next((word for word in words if word not in self.known), None)
        if unknown is not None:
            raise ValueError(f"token {shown(unknown)} is not one the declared types write")
        return self.vocabulary.ids(list(words))

    # --- the Task contract -----------------------------------------------------------------------------
    def keys(self, problems: Problems) -> np.ndarray:
        return row_keys(problems["problem"])

    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        problem, solution = problems["problem"], problems["solution"]
        n = len(problem)
        source = np.concatenate([problem, np.zeros((n, 1), dtype=problem.dtype)], axis=1)
        source[np.arange(n), (problem != Vocabulary.pad_id).sum(axis=1)] = Vocabulary.eos_id
        target = np.concatenate([np.full((n, 1), Vocabulary.bos_id), solution, np.zeros((n, 1))], axis=1)
        target = target.astype(np.int64)
        target[np.arange(n), (solution != Vocabulary.pad_id).sum(axis=1) + 1] = Vocabulary.eos_id
        return source.astype(np.int64), target

    def _words(self, ids: np.ndarray) -> list[str]:
        """The words of a stored problem or solution row (padded with PAD)."""
        tokens, out = self.vocabulary.tokens, []
        for i in ids.tolist():
            if i == Vocabulary.pad_id:
                break
            out.append(tokens[i])
        return out

    @property
    def outcome_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("malformed",)

    def decode(self, hypotheses: np.ndarray) -> tuple[list[list[Any] | None], np.ndarray]:
        """The values of each hypothesis's output side (None when malformed: no EOS, a PAD or unknown id
        before it, or not of the declared types), and whether it is well formed."""
        values: list[list[Any] | None] = []
        for hypothesis in hypotheses:
            try:
                if Vocabulary.eos_id not in hypothesis.tolist():
                    raise ValueError("no end of sequence")
                values.append(self.read(self.vocabulary.words(hypothesis), self.outputs))
            except ValueError:
                values.append(None)
        return values, np.array([v is not None for v in values], dtype=bool)

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        answers, valid = self.decode(hypotheses)
        correct = np.zeros(len(hypotheses), dtype=bool)
        for i, answer in enumerate(answers):
            if answer is not None:
                correct[i] = self.same(answer, self.read(self._words(problems["solution"][i]), self.outputs))
        return correct, {"malformed": ~valid}

    def same(self, answer: list[Any], truth: list[Any]) -> bool:
        """Exact for integers, ranges and tokens; relative L1 error under the tolerance for the floats."""
        if len(answer) != len(truth):
            return False
        is_float = [isinstance(v, float) for v in truth]
        if any(a != t for a, t, f in zip(answer, truth, is_float, strict=True) if not f):
            return False
        floats = np.array([(a, t) for a, t, f in zip(answer, truth, is_float, strict=True) if f], dtype=float)
        if not len(floats):
            return True
        return bool(relative_l1(floats[None, :, 0], floats[None, :, 1])[0] <= self.tolerance)

    def _answer_item(self) -> Item | None:
        """The output, when it is one int or one range value (then accuracy per answer means something)."""
        single = self.outputs[0] if len(self.outputs) == 1 else None
        return single if single is not None and single.kind in ("int", "range") and single.length is None else None

    @property
    def _by_answer(self) -> bool:
        return self.classes_by == "answer" or (self.classes_by is None and self._answer_item() is not None)

    @property
    def classes_are(self) -> str:  # type: ignore[override]
        if not self._by_answer:
            return "length of the problem"
        item = self._answer_item()
        return "the answer (range output)" if item.kind == "range" else "the answer (int output)"

    def classes(self, problems: Problems) -> np.ndarray:
        if not self._by_answer:
            return (problems["problem"] != Vocabulary.pad_id).sum(axis=1).astype(np.int64)
        low = self._answer_item().low
        answers = [self.read(self._words(row), self.outputs)[0] for row in problems["solution"]]
        return np.array(answers, dtype=np.int64) - low

    def parse_problem(self, args: Sequence[str]) -> Problems:
        words = " ".join(args).split()
        try:
            self.read(words, self.inputs)
            ids = self.ids(words)
        except ValueError as error:
            kind = self.types.split(":")[0]
            raise ConfigError(f"{shown(' '.join(words))} is not an input of type {kind}: {error}") from None
        if len(ids) > self.source_len:
            raise ConfigError(f"the problem has {len(ids)} tokens; this model reads at most {self.source_len}")
        return {"problem": padded_rows([ids], self.source_len), "solution": padded_rows([[]], self.target_len)}

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        values, _ = self.decode(hypotheses)
        words = [" ".join(self.vocabulary.words(h)) for h in hypotheses]
        return [
            text if value is not None else f"(malformed: {text})" for text, value in zip(words, values, strict=True)
        ]

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        return [
            {"problem": " ".join(self._words(p)), "solution": " ".join(self._words(s))}
            for p, s in zip(problems["problem"], problems["solution"], strict=True)
        ]
