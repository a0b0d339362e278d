"""Problem families. A task is rebuilt from its `config()` alone, which is how checkpoints carry it."""

from typing import Any

from lit_math.errors import ConfigError
from lit_math.tasks.arithmetic import ArithmeticTask
from lit_math.tasks.base import Problems, Task, count, take
from lit_math.tasks.files import FileTask
from lit_math.tasks.gcd import GCDTask
from lit_math.tasks.integration import IntegrationTask
from lit_math.tasks.linalg import LinearAlgebraTask
from lit_math.tasks.ode import ODETask
from lit_math.tasks.polynomials import PolynomialTask
from lit_math.tasks.sizes import LinearAlgebraSizes

TASKS: dict[str, type[Task]] = {
    task.family: task
    for task in (
        ArithmeticTask,
        FileTask,
        GCDTask,
        IntegrationTask,
        LinearAlgebraTask,
        LinearAlgebraSizes,
        ODETask,
        PolynomialTask,
    )
}


def build_task(config: dict[str, Any]) -> Task:
    """The task described by `config` (its `family` plus that family's knobs)."""
    config = dict(config)
    family = config.pop("family", None)
    if family not in TASKS:
        raise ConfigError(f"unknown task family {family!r}; known: {', '.join(sorted(TASKS))}")
    return TASKS[family](**config)


__all__ = [
    "TASKS",
    "ArithmeticTask",
    "FileTask",
    "GCDTask",
    "IntegrationTask",
    "LinearAlgebraSizes",
    "LinearAlgebraTask",
    "ODETask",
    "PolynomialTask",
    "Problems",
    "Task",
    "build_task",
    "count",
    "take",
]
