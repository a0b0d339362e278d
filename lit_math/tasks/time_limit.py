"""A wall-clock limit for pure-Python work such as a sympy call: an example that runs out of time is rejected
and counted, it never hangs a dataloader worker."""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

T = TypeVar("T")


REPEAT = 0.05
"""Seconds between repeated alarms once a limit has expired."""


class TimeLimitExceeded(Exception):
    """The guarded block ran longer than its limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `TimeLimitExceeded` inside the block once `seconds` have passed.

    A SIGALRM timer: it interrupts Python code between bytecodes (sympy is pure Python), so it needs the main
    thread of its process, which dataloader workers and the training process are. Limits do not nest: a
    shorter limit inside one is `within`. Once expired, the timer fires every REPEAT seconds until the block
    is left, and raises only in the block's own code: not while the garbage collector or a `__del__` runs
    (Python would drop the exception there and report it as unraisable), but at the next repeat. Where it
    still lands in code Python calls on its own (a weakref callback, say), the drop is not reported: the
    repeat comes back in the block.
    """
    if seconds <= 0:
        raise ValueError(f"a time limit must be positive, got {seconds}")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("time_limit needs the main thread of its process (signals are delivered there)")

    collecting = False

    def gc_started(phase: str, info: dict) -> None:
        nonlocal collecting
        collecting = collecting or phase == "start"

    def gc_stopped(phase: str, info: dict) -> None:
        nonlocal collecting
        collecting = collecting and phase != "stop"

    def expire(signum: int, frame: FrameType | None) -> None:
        if collecting or _in_finalizer(frame):  # raised there, it would be dropped: the repeat comes back
            return
        raise TimeLimitExceeded(f"over the {seconds} s limit")

    def drop_ours(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, TimeLimitExceeded):  # ours, dropped: the repeat comes back
            hook(unraisable)

    previous = signal.signal(signal.SIGALRM, expire)
    gc.callbacks.insert(0, gc_started)  # first at a collection's start, last at its stop
    gc.callbacks.append(gc_stopped)
    hook, sys.unraisablehook = sys.unraisablehook, drop_ours
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook
        gc.callbacks.remove(gc_started)
        gc.callbacks.remove(gc_stopped)


def _in_finalizer(frame: FrameType | None) -> bool:
    """Whether the interrupted code is a `__del__` or a garbage-collector callback (an exception there is
    dropped: Python calls it 'unraisable'), at any depth. The callbacks are looked up now: a library may
    register one while the block runs (hypothesis does, lazily)."""
    callbacks = {getattr(getattr(c, "__func__", c), "__code__", None) for c in gc.callbacks}
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


def within(seconds: float, step: Callable[[], T], default: T) -> T:
    """step(), or `default` when the step runs past `seconds`.

    May run inside a `time_limit`, which does not nest by itself: the outer timer's remaining time is restored
    afterwards (when it is the shorter, it expires here and then at once in the outer block, as without this).
    """
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.monotonic()
    try:
        with time_limit(min(seconds, outer) if outer else seconds):
            return step()
    except TimeLimitExceeded:
        return default
    finally:
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-6), REPEAT)
