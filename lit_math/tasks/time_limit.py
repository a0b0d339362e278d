"""A wall-clock limit for pure-Python work such as a sympy call: an example that runs out of time is rejected
and counted, it never hangs a dataloader worker."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TimeLimitExceeded(Exception):
    """The guarded block ran longer than its limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `TimeLimitExceeded` inside the block once `seconds` have passed.

    A SIGALRM timer: it interrupts Python code between bytecodes (sympy is pure Python), so it needs the main
    thread of its process, which dataloader workers and the training process are. Limits do not nest.
    """
    if seconds <= 0:
        raise ValueError(f"a time limit must be positive, got {seconds}")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("time_limit needs the main thread of its process (signals are delivered there)")

    def expire(signum: int, frame: object) -> None:
        raise TimeLimitExceeded(f"over the {seconds} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
