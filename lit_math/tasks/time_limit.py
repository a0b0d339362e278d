"""A wall-clock limit for pure-Python work such as a sympy call: an example that runs out of time is rejected
and counted, it never hangs a dataloader worker."""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

T = TypeVar("T")


REPEAT = 0.05
"""Seconds between repeated alarms once a limit has expired."""


class TimeLimitExceeded(Exception):
    """The guarded block ran longer than its limit."""


def time_limit(seconds: float) -> _TimeLimit:
    """Raise `TimeLimitExceeded` inside the block once `seconds` have passed (a context manager).

    A SIGALRM timer: it interrupts Python code between bytecodes (sympy is pure Python), so it needs the main
    thread of its process, which dataloader workers and the training process are. Limits do not nest: a
    shorter limit inside one is `within`. Once expired, the timer fires every REPEAT seconds until the block
    is left, and raises only in the block's own code: not while the garbage collector, a `__del__` or the
    unraisable-exception hook runs (Python would drop the exception there, or the hook would fail), nor while
    the limit itself is set up or taken down, but at the next repeat. Where it still lands in code Python
    calls on its own (a weakref callback, say), the drop is not reported: the repeat comes back in the block.
    An alarm handled once the block is over (one already on its way when the timer stopped) never raises: in
    the block that follows, it would be an exception out of nowhere.
    """
    return _TimeLimit(seconds)


class _TimeLimit:
    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError(f"a time limit must be positive, got {seconds}")
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("time_limit needs the main thread of its process (signals are delivered there)")
        self.seconds = seconds
        self.active = False
        self.collecting = False

    def __enter__(self) -> None:
        self.block = _caller(sys._getframe(1))
        self.previous = signal.signal(signal.SIGALRM, self._expire)
        gc.callbacks.insert(0, self._gc_started)  # first at a collection's start, last at its stop
        gc.callbacks.append(self._gc_stopped)
        self.hook, sys.unraisablehook = sys.unraisablehook, self._drop_ours
        self.deadline = time.monotonic() + self.seconds
        self.active = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds, REPEAT)

    def __exit__(self, *exc: object) -> None:
        self.active = False  # first: from here on an alarm is ignored, so nothing below is skipped
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)  # handles an alarm still pending, with ours, first
        if sys.unraisablehook == self._drop_ours:  # (unless someone replaced it meanwhile)
            sys.unraisablehook = self.hook
        gc.callbacks.remove(self._gc_started)
        gc.callbacks.remove(self._gc_stopped)
        self.block = None  # no reference cycle through the caller's frame

    def _expire(self, signum: int, frame: FrameType | None) -> None:
        # too early: an alarm of a shorter limit inside this one (`within`), arriving after that one ended
        early = time.monotonic() < self.deadline - 1e-3
        if not self.active or early or self.collecting or not self._in_block(frame):
            return  # raised there, it would be dropped or hit the wrong code: the repeat comes back, if due
        raise TimeLimitExceeded(f"over the {self.seconds} s limit")

    def _in_block(self, frame: FrameType | None) -> bool:
        """Whether the interrupted code is the block's own: the block's frame is on the stack, and between it
        and the top there is no `__del__`, garbage-collector callback, unraisable hook or code of this limit
        (an exception there is dropped, or would leave the limit half taken down). The callbacks and hooks are
        looked up now: a library may register one while the block runs (hypothesis does, lazily)."""
        foreign = {_code(c) for c in gc.callbacks} | {_code(self.hook), _code(sys.unraisablehook)}
        foreign |= {_code(f) for f in (self._drop_ours, self.__enter__, self.__exit__, _caller)}
        while frame is not None and frame is not self.block:
            if frame.f_code.co_name == "__del__" or frame.f_code in foreign or _entering_or_leaving(frame):
                return False
            frame = frame.f_back
        return frame is not None

    def _gc_started(self, phase: str, info: dict) -> None:
        self.collecting = self.collecting or phase == "start"

    def _gc_stopped(self, phase: str, info: dict) -> None:
        self.collecting = self.collecting and phase != "stop"

    def _drop_ours(self, unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, TimeLimitExceeded):  # ours, dropped: the repeat comes back
            self.hook(unraisable)


def _caller(frame: FrameType) -> FrameType:
    """The frame whose code the block is: the first outside contextlib (`ExitStack.enter_context`, say)."""
    while frame.f_back is not None and frame.f_code.co_filename == contextlib.__file__:
        frame = frame.f_back
    return frame


def _entering_or_leaving(frame: FrameType) -> bool:
    """Whether the frame is contextlib entering or leaving a context (an `ExitStack` that calls ours)."""
    return frame.f_code.co_filename == contextlib.__file__ and frame.f_code.co_name in CONTEXTLIB_STEPS


CONTEXTLIB_STEPS = {
    "__enter__",
    "__exit__",
    "enter_context",
    "_push_cm_exit",
    "_push_exit_callback",
    "_create_exit_wrapper",
}


def _code(function: object) -> object:
    """The code object of a function, bound method or partial, or None."""
    function = getattr(function, "func", function)  # functools.partial
    return getattr(getattr(function, "__func__", function), "__code__", None)


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
