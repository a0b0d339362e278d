"""Streaming datasets and the family DataModules built on them."""

from lit_math.data.datamodule import StreamingDataModule, data_from_spec
from lit_math.data.gcd import GCDDataModule

__all__ = ["GCDDataModule", "StreamingDataModule", "data_from_spec"]
