"""The error analysis of a run, one JSON line per validation (what `lit-math report` reads for any family)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR_HISTORY_FILE = "error_analysis.jsonl"


@dataclass
class ErrorRecord:
    """Counts of one validation, per evaluation set: problems and right answers by class, errors, and the
    errors with each outcome kind (eigenvalues right, malformed, ...). Counts, not shares: exact to merge."""

    epoch: int
    step: int
    examples: int
    """Training examples seen so far, over all devices (0 when a checkpoint was evaluated alone)."""
    classes_are: str
    """What the task's classes mean (condition-number decade, problem length, ...)."""
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per set: `classes` [[class, problems, right], ...], `wrong`, `among_errors` {kind: count}."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def problems(self, name: str) -> int:
        return sum(total for _, total, _ in self.sets[name]["classes"])

    def accuracy(self, name: str) -> float:
        total = self.problems(name)
        return sum(right for _, _, right in self.sets[name]["classes"]) / total if total else float("nan")

    def accuracy_by_class(self, name: str) -> dict[int, tuple[int, float]]:
        """class -> (problems, accuracy)."""
        return {c: (total, right / total) for c, total, right in self.sets[name]["classes"] if total}

    def among_errors(self, name: str) -> dict[str, float]:
        wrong = self.sets[name]["wrong"]
        return {kind: n / wrong for kind, n in self.sets[name]["among_errors"].items()} if wrong else {}
