"""The history of a run, one JSON line per validation: every curve can be rebuilt from it.

`EpochRecord` is the GCD one; `lit_math.callbacks.recording.RunHistory` keeps such a file during training.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from lit_math.analysis.gcd_rules import LEARNED_THRESHOLD, ClassTable
from lit_math.errors import ConfigError

HISTORY_FILE = "gcd_history.jsonl"


@dataclass
class EpochRecord:
    epoch: int
    step: int
    examples: int
    """Training examples seen so far, over all devices."""
    counts: list[list[int]]
    """The `ClassTable` counts of this epoch's evaluation."""
    learned: list[int]
    joined: list[int] = field(default_factory=list)
    """GCDs learned at this epoch and not at the previous one (a step event when this or `left` is not empty)."""
    left: list[int] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    base: int | None = None
    """The base integers were written in (rule 2 depends on it)."""
    threshold: float = LEARNED_THRESHOLD
    """The accuracy that counted as learned."""

    @property
    def table(self) -> ClassTable:
        return ClassTable(np.asarray(self.counts, dtype=np.int64))

    @property
    def is_event(self) -> bool:
        return bool(self.joined or self.left)

    def event_text(self) -> str:
        """E.g. 'epoch 112, 33.6M examples: +3, +21, +51, -7'."""
        changes = [f"+{k}" for k in self.joined] + [f"-{k}" for k in self.left]
        return f"epoch {self.epoch}, {_millions(self.examples)} examples: {', '.join(changes)}"

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1_000_000 else f"{n:,}"


class Record(Protocol):
    step: int

    def to_json(self) -> str: ...


R = TypeVar("R", bound=Record)


def append_record(path: Path, record: Record) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(record.to_json() + "\n")


def write_history(path: Path, records: list[R]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(record.to_json() + "\n" for record in records))


def read_history(path: Path, record_type: type[R] = EpochRecord) -> list[R]:  # type: ignore[assignment]
    """The records of a history file, in training order.

    A record whose step is not after the one before it starts a resumed timeline: the records it replaces
    (at or after its step) are dropped. A last line cut short (a run still writing) is skipped.
    """
    lines = Path(path).read_text().splitlines()
    records: list[R] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = record_type(**json.loads(line))
        except json.JSONDecodeError as error:
            if number == len(lines):
                break
            raise ConfigError(f"{path}:{number}: not a history record ({error})") from None
        except TypeError as error:
            raise ConfigError(f"{path}:{number}: not a history record ({error})") from None
        while records and records[-1].step >= record.step:
            records.pop()
        records.append(record)
    return records


def with_threshold(history: list[EpochRecord], threshold: float) -> list[EpochRecord]:
    """The history as if `threshold` had decided what is learned: learned sets and events recomputed."""
    out, before = [], []
    for record in history:
        learned = record.table.learned(threshold)
        joined, left = sorted(set(learned) - set(before)), sorted(set(before) - set(learned))
        out.append(replace(record, learned=learned, joined=joined, left=left, threshold=threshold))
        before = learned
    return out
