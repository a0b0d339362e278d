"""Streaming datasets and the family DataModules built on them."""

from lit_math.data.arithmetic import ArithmeticDataModule
from lit_math.data.datamodule import StreamingDataModule, data_families, data_from_spec
from lit_math.data.files import FileDataModule
from lit_math.data.gcd import GCDDataModule
from lit_math.data.linalg import LinearAlgebraDataModule
from lit_math.data.polynomials import PolynomialDataModule
from lit_math.data.symbolic import IntegrationDataModule, ODEDataModule

__all__ = [
    "ArithmeticDataModule",
    "FileDataModule",
    "GCDDataModule",
    "IntegrationDataModule",
    "LinearAlgebraDataModule",
    "ODEDataModule",
    "PolynomialDataModule",
    "StreamingDataModule",
    "data_families",
    "data_from_spec",
]
