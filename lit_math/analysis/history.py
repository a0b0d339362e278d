"""The per-epoch history of a GCD run, one JSON line per epoch: every curve can be rebuilt from it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lit_math.analysis.gcd_rules import ClassTable

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


def append_record(path: Path, record: EpochRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(record.to_json() + "\n")


def read_history(path: Path) -> list[EpochRecord]:
    """The records of a history file; a later record of the same epoch (a resumed run) replaces the earlier."""
    records: dict[int, EpochRecord] = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            record = EpochRecord(**json.loads(line))
            records[record.epoch] = record
    return [records[epoch] for epoch in sorted(records)]
