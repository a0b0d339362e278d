"""Streaming datasets and the family DataModules built on them."""

from lit_math.data.datamodule import StreamingDataModule, data_families, data_from_spec
from lit_math.data.gcd import GCDDataModule
from lit_math.data.linalg import LinearAlgebraDataModule
from lit_math.data.symbolic import IntegrationDataModule, ODEDataModule

__all__ = [
    "GCDDataModule",
    "IntegrationDataModule",
    "LinearAlgebraDataModule",
    "ODEDataModule",
    "StreamingDataModule",
    "data_families",
    "data_from_spec",
]
