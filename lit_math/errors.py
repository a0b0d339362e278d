"""The one error type for bad user input, and the checks that raise it with the value and what is allowed."""

from __future__ import annotations

import re
from collections.abc import Sequence


class ConfigError(ValueError):
    """A value outside what is allowed; the message names the value and what is allowed."""


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """`value` as an int in low..high (no upper bound when `high` is None)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        raise ConfigError(f"{name} must be an integer {allowed}, got {value!r}")
    return value


def check_choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def shown(value: object, limit: int = 60, quoted: bool = True) -> str:
    """A user's value for an error message (a string quoted), cut in the middle when long: a 10,000-digit input
    must not fill the terminal, and its length says what was wrong with it."""
    text = repr(value) if isinstance(value, str) and quoted else str(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}...{text[-12:]} ({len(text):,} characters)"


_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,4})?|[+-]?(?:nan|inf)")


def ascii_int(word: str) -> int:
    """A typed integer: ASCII digits only (Python's `int` also reads full-width digits, and '1_000'), at most 30
    of them, so a 10,000-digit word is refused before any conversion."""
    if not _INTEGER.fullmatch(word):
        raise ValueError(f"{shown(word)} is not an integer (ASCII digits 0-9, at most 30)")
    return int(word)


def ascii_float(word: str) -> float:
    """A typed number: ASCII digits, an optional point and exponent (or nan, inf), bounded in length."""
    if not _FLOAT.fullmatch(word):
        raise ValueError(f"{shown(word)} is not a number (ASCII digits, '.', an exponent such as e-3)")
    return float(word)
