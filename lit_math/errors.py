"""The one error type for bad user input, and the checks that raise it with the value and what is allowed."""

from __future__ import annotations

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
