"""The corpora published with Lample & Charton (2020), read as their authors wrote them.

facebookresearch/SymbolicMathematics distributes `prim_fwd`, `prim_bwd`, `prim_ibp`, `ode1`, `ode2` as
`.train` / `.valid` / `.test` files, one pair a line, `COUNT|PROBLEM<TAB>SOLUTION` (the count of the
deduplication, which their loader drops too; a raw `data.prefix` export, without it, reads the same). An
integration problem is `sub Y' f` (y' - f = 0: our integrand is f); an ODE problem is its equation in `x`, `Y`,
`Y'`, `Y''`, and the solution holds the constants as coefficients (`a8`, `a9`: our c1, c2).

Every line is read into our tokens (`lit_math.encoding.symbolic_mathematics`) or rejected with a reason that is
counted and shown with its first line; a file in neither this format nor ours is refused at its first line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lit_math.data.files import MAX_LINE_BYTES
from lit_math.encoding.symbolic_mathematics import KEPT, REASONS, PrefixTranslator, Side
from lit_math.errors import ConfigError, shown
from lit_math.tasks.integration import IntegrationTask
from lit_math.tasks.ode import ODETask
from lit_math.tasks.symbolic import SymbolicTask

CHUNK = 50_000
"""Lines translated at once: large enough for numpy to pay off, small enough to bound the text in memory."""
SUFFIXES = (".train",)
"""Training files of a corpus folder (their tarballs hold NAME.train, NAME.valid, NAME.test)."""
FORMAT = "COUNT|PROBLEM<TAB>SOLUTION in facebookresearch/SymbolicMathematics's prefix notation"


def translator(task: SymbolicTask) -> PrefixTranslator:
    """How a family's problems and solutions are written in their notation."""
    tokens = task.vocabulary.tokens
    if isinstance(task, IntegrationTask):
        x = Side({"x": "x"})
        return PrefixTranslator(tokens, x, x, head=("sub", "Y'"), max_len=task.max_len)
    if isinstance(task, ODETask):
        equation = Side({"x": "x", "Y": "y", "Y'": "dy", "Y''": "ddy"})
        solution = Side({"x": "x"}, constants=("c1", "c2")[: task.order])
        return PrefixTranslator(tokens, equation, solution, max_len=task.max_len)
    raise ConfigError(f"the published corpora are integration and ODE data, not {task.family}")


@dataclass
class PublishedLines:
    """The lines of published files that were read, as flat id arrays, and those that were not, by reason."""

    problems: np.ndarray
    problem_offsets: np.ndarray
    solutions: np.ndarray
    solution_offsets: np.ndarray
    lines: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    first: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    """The first line rejected for each reason: (file index, line number, `file:line: what`)."""

    def describe(self) -> str:
        if not self.rejected:
            return "none rejected"
        counts = ", ".join(f"{reason} {count}" for reason, count in self.rejected.most_common())
        examples = "; ".join(text for _, _, text in sorted(self.first.values()))
        return f"rejected {counts} (first of each: {examples})"

    def reject(self, reason: str, count: int, place: tuple[int, int], text: str) -> None:
        self.rejected[reason] += count
        if reason not in self.first or place < self.first[reason][:2]:
            self.first[reason] = (*place, text)


def published_files(path: Path) -> list[Path]:
    """A file, or a folder's training files."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"no such file or folder: {path}")
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    if not files:
        raise ConfigError(
            f"{path} is neither a lit-math corpus (no manifest.json) nor a folder of published training files "
            f"({', '.join('*' + s for s in SUFFIXES)})"
        )
    return files


def read_published(path: Path, task: SymbolicTask) -> PublishedLines:
    """Every line of the published file(s) at `path`, read for `task`'s family."""
    reader = translator(task)
    parts: list[tuple[np.ndarray, ...]] = []
    read = PublishedLines(*(np.empty(0, dtype=np.int16), np.zeros(1, dtype=np.int64)) * 2)
    for index, file in enumerate(published_files(path)):
        chunk: list[tuple[str, str]] = []
        where: list[tuple[int, tuple[str, str]]] = []
        for number, pair in _pairs(file):
            read.lines += 1
            if isinstance(pair, str):  # not a pair: the reason
                read.reject("malformed", 1, (index, number), f"{file}:{number}: malformed: {pair}")
                continue
            chunk.append(pair)
            where.append((number, pair))
            if len(chunk) == CHUNK:
                parts.append(_translate(reader, chunk, where, (index, file), read))
                chunk, where = [], []
        if chunk:
            parts.append(_translate(reader, chunk, where, (index, file), read))
    if parts:
        problems, solutions = _joined([p[:2] for p in parts]), _joined([p[2:] for p in parts])
        read.problems, read.problem_offsets = problems
        read.solutions, read.solution_offsets = solutions
    if len(read.problem_offsets) == 1:
        raise ConfigError(
            f"no line of {path} could be read for the {task.family} task: {read.describe()} (problems typed in "
            "infix, x*cos(x), go in a .txt or .infix file)"
        )
    return read


def _translate(
    reader: PrefixTranslator,
    chunk: list[tuple[str, str]],
    where: list[tuple[int, tuple[str, str]]],
    file: tuple[int, Path],
    read: PublishedLines,
) -> tuple[np.ndarray, ...]:
    out = reader.translate(chunk)
    for reason, count in zip(*np.unique(out.reasons[out.reasons != KEPT], return_counts=True), strict=True):
        number, (problem, solution) = where[int(np.flatnonzero(out.reasons == reason)[0])]
        text = f"{file[1]}:{number}: {REASONS[reason]}: {shown(problem + ' TAB ' + solution, 120)}"
        read.reject(REASONS[reason], int(count), (file[0], number), text)
    return out.problems, out.problem_offsets, out.solutions, out.solution_offsets


def _joined(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.concatenate([p[0] for p in parts])
    lengths = np.concatenate([np.diff(p[1]) for p in parts])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return ids, offsets


def _pairs(file: Path) -> Iterator[tuple[int, tuple[str, str] | str]]:
    """(line number, (problem, solution) text or why the line is no pair) of each non-blank line; the first
    line must be a pair, or the file is in neither format (a ConfigError). Lines are read in bounded pieces, so a
    huge or binary file costs no more than its size."""
    with file.open("rb") as stream:
        number, first = 0, True
        while raw := stream.readline(MAX_LINE_BYTES + 2):
            number += 1
            pair = _pair(raw, stream)
            if first and isinstance(pair, str) and pair:
                raise ConfigError(
                    f"{file}:{number}: {pair}: the file is in neither format (a lit-math corpus is a folder with a "
                    f"manifest.json; a published one has lines {FORMAT})"
                )
            if pair:
                first = False
                yield number, pair


def _pair(raw: bytes, stream: object) -> tuple[str, str] | str:
    """The (problem, solution) text of a line, "" for a blank line, or the reason it is no pair."""
    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
        while raw and not raw.endswith(b"\n"):  # skip the rest of the line, in bounded pieces
            raw = stream.readline(1 << 20)  # type: ignore[attr-defined]
        return f"a line longer than {MAX_LINE_BYTES:,} bytes"
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return f"not UTF-8 (byte {error.start + 1} of the line)"
    if not line.strip():
        return ""
    count, bar, pair = line.partition("|")
    if bar and not (count.isascii() and count.isdigit()):
        return f"{shown(count, 40)} before '|' is not a count"
    sides = (pair if bar else line).split("\t")
    if len(sides) != 2:
        return f"{len(sides)} tab-separated fields, expected PROBLEM<TAB>SOLUTION"
    return sides[0], sides[1]
