"""Evaluation files of problems written by people, in ordinary infix: `x*sin(x)`, `exp(x)/(1+exp(x))`, and for
ODEs equations in y, y', y'' as `lit-math translate` reads them, one a line, an optional reference answer after
a TAB, `#` comments.

Told apart from the published prefix corpora by the file's suffix (`.txt`, `.infix`; theirs are `.train`,
`.valid`, `.test`), not by guessing from content: a typo in the first line of a typed file must be reported as a
typo, not as a file in another format. Every line is read by our grammar (`SymbolicTask.typed`), never evaluated.
A line that is not an expression (a syntax error, a character outside the grammar, not UTF-8, over
`MAX_LINE_BYTES`) stops the reading with `file:line: why`. A line that is one but that the codec cannot write (a
function outside the vocabulary, such as erf; a number or nesting beyond the reader's bounds; more than
`max_len` tokens) is kept as a problem with no tokens: it counts in the accuracy's denominator, never as right,
and as `not_encodable` among the outcomes, so a user sees both. A reference answer is used (for the loss, and
as an answer known to be right) only when the verifier accepts it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from lit_math.data.files import read_lines
from lit_math.encoding.expressions import EncodeError
from lit_math.encoding.infix import ParseError, Unsupported
from lit_math.errors import ConfigError, shown
from lit_math.tasks import Problems
from lit_math.tasks.base import padded_rows
from lit_math.tasks.symbolic import IDS, REJECTIONS, SymbolicTask
from lit_math.tasks.time_limit import TimeLimitExceeded
from lit_math.tasks.verify import Verdict

SUFFIXES = (".txt", ".infix")
"""Suffixes of typed evaluation files; any other file is read as a published corpus."""


def is_typed(path: Path) -> bool:
    return path.suffix in SUFFIXES


@dataclass
class TypedSet:
    """The problems of a typed file, and what could not be used, by reason, with the first line of each."""

    problems: Problems
    lines: int
    counts: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def note(self, reason: str, where: str) -> None:
        self.counts[reason] += 1
        self.first.setdefault(reason, where)

    def describe(self) -> str:
        if not self.counts:
            return "every line encoded, every reference verified"
        return "; ".join(f"{reason}: {count} (first: {self.first[reason]})" for reason, count in self.counts.items())


def read_typed(path: Path, task: SymbolicTask, limit: int | None = None) -> TypedSet:
    """The first `limit` problems (all by default) of the typed file at `path`, for `task`'s family."""
    problems: list[list[int]] = []
    solutions: list[list[int]] = []
    notes: list[tuple[str, str]] = []
    for where, fields in read_lines(path)[0]:
        text = "\t".join(fields).split("#", 1)[0]
        if not text.strip():
            continue
        if limit is not None and len(problems) == limit:
            break
        sides = text.split("\t")
        if len(sides) > 2 or not sides[0].strip():
            raise ConfigError(f"{where}: expected PROBLEM or PROBLEM<TAB>ANSWER, got {shown(text)}")
        problem = _read(task, sides[0], task.equations, where)
        reference: list[int] = []
        if isinstance(problem, Unreadable):
            notes.append((f"problems {problem.reason}", f"{where}: {shown(sides[0].strip())}: {problem.detail}"))
        elif len(sides) == 2 and sides[1].strip():
            answer = _read(task, sides[1], False, where)
            if isinstance(answer, Unreadable):
                notes.append((f"references {answer.reason}, not used", f"{where}: {answer.detail}"))
            elif task.verify(problem[0], answer[0], len(problems)) is not Verdict.CORRECT:
                notes.append(("references the verifier does not accept, not used", where))
            else:
                reference = task.vocabulary.ids(answer[1])
        problems.append([] if isinstance(problem, Unreadable) else task.vocabulary.ids(problem[1]))
        solutions.append(reference)
    if not problems:
        raise ConfigError(f"{path} holds no problem (one per line: PROBLEM or PROBLEM<TAB>ANSWER, # comments)")
    read = TypedSet(
        {
            "problem": padded_rows(problems, task.max_len, IDS),
            "solution": padded_rows(solutions, task.max_len, IDS),
            "rejected": np.zeros((len(problems), len(REJECTIONS)), dtype=np.int32),
        },
        len(problems),
    )
    for reason, place in notes:
        read.note(reason, place)
    return read


@dataclass(frozen=True)
class Unreadable:
    """Why the codec cannot write a typed side: `reason` (counted) and `detail` (shown for the first)."""

    reason: str
    detail: str


def _read(task: SymbolicTask, text: str, equation: bool, where: str) -> tuple[sp.Expr, list[str]] | Unreadable:
    """(expression, tokens) of a typed side, or why the codec cannot write it; ConfigError when it is no
    expression at all."""
    try:
        expr, tokens = task.typed(text.strip(), equation)
    except (Unsupported, EncodeError) as error:
        return Unreadable("not encodable", str(error))
    except ParseError as error:
        raise ConfigError(f"{where}: cannot read {shown(text.strip())}: {error}") from None
    except TimeLimitExceeded:
        return Unreadable("not encodable", f"reading it took over {max(task.seconds, 5.0):g} s")
    if len(tokens) > task.max_len:
        return Unreadable("too long", f"{len(tokens)} tokens, over max_len={task.max_len}")
    return expr, tokens
