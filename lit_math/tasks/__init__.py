"""Problem families. A task is rebuilt from its `config()` alone, which is how checkpoints carry it.

Every module of this package is imported here, so each family's task registers itself (`TASKS`) without a
hand-kept list (each is importable as `lit_math.tasks.<Name>`); a new family is a new module.
"""

import importlib
import pkgutil

from lit_math.tasks.base import TASKS, ClassedByAnswer, Generates, Problems, Task, build_task, count, take

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
_classes = {cls.__name__: cls for cls in TASKS.values()}
globals().update(_classes)

__all__ = ["TASKS", "ClassedByAnswer", "Generates", "Problems", "Task", "build_task", "count", "take", *_classes]
