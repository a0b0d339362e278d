"""Sequences <-> mathematical objects. Pure python/numpy, no torch."""

from lit_math.encoding.integers import DecodeError, IntegerCodec
from lit_math.encoding.vocabulary import SPECIAL_TOKENS, Vocabulary

__all__ = ["SPECIAL_TOKENS", "DecodeError", "IntegerCodec", "Vocabulary"]
