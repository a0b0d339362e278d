"""Callbacks that turn training and evaluation into measurements."""

from lit_math.callbacks.class_predictions import GCDClassPredictions
from lit_math.callbacks.error_analysis import ErrorAnalysis
from lit_math.callbacks.generation import GenerationStats
from lit_math.callbacks.layout import ScalarsLayout
from lit_math.callbacks.predictions import WritePredictions
from lit_math.callbacks.shares import MixtureShares
from lit_math.callbacks.throughput import ExamplesPerSecond

__all__ = [
    "ErrorAnalysis",
    "ExamplesPerSecond",
    "GCDClassPredictions",
    "GenerationStats",
    "MixtureShares",
    "ScalarsLayout",
    "WritePredictions",
]
