"""Streaming datasets and the family DataModules built on them.

Every module of this package is imported here, so each family's DataModule registers itself (`FAMILIES`)
and is importable as `lit_math.data.<Name>` (the `class_path` configs write) without a hand-kept list.
"""

import importlib
import pkgutil

from lit_math.data.datamodule import FAMILIES, StreamingDataModule, StreamKnobs, data_families, data_from_spec

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
globals().update(FAMILIES)
from lit_math.data.mixture import MixtureDataModule  # noqa: E402 (not a family: imported by name)

__all__ = [
    "FAMILIES",
    "MixtureDataModule",
    "StreamKnobs",
    "StreamingDataModule",
    "data_families",
    "data_from_spec",
    *FAMILIES,
]
