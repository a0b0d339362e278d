"""Verification of antiderivatives, and the time limit that protects it."""

import signal
import sys
import time

import pytest
import sympy as sp

from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit
from lit_math.tasks.verify import Verdict, check_antiderivative, numerically_zero

x = sp.Symbol("x")


@pytest.mark.parametrize(
    "integrand,candidate",
    [
        (2 / x, sp.log(x**2)),  # written differently from 2*log(x), right where x != 0
        (2 / x, 2 * sp.log(x) + 7),  # a constant of integration
        (x * sp.cos(x), x * sp.sin(x) + sp.cos(x)),
        (sp.exp(x) * (1 + x), x * sp.exp(x)),
        (1 / (1 + x**2), sp.atan(x)),
        (sp.cos(x) ** 2, x / 2 + sp.sin(2 * x) / 4),
        (1 / x, sp.log(sp.Abs(x))),  # the textbook answer, right on both sides of 0
    ],
)
def test_right_answers_written_differently_are_accepted(integrand, candidate):
    assert check_antiderivative(integrand, candidate, x) == Verdict.CORRECT


@pytest.mark.parametrize(
    "integrand,candidate",
    [
        (x, x**2 / 2 + x),  # near miss: an extra term
        (x * sp.cos(x), x * sp.sin(x) - sp.cos(x)),  # a sign
        (sp.exp(2 * x), sp.exp(2 * x)),  # a factor
        (1 / x, sp.log(x) * 1.0001),  # a float: simplify cannot cancel it, the numeric check rejects it
        (sp.Integer(1), sp.sqrt(x**2)),  # |x|: right for x > 0 only, while the problem is real everywhere
    ],
)
def test_near_misses_are_rejected(integrand, candidate):
    assert check_antiderivative(integrand, candidate, x) == Verdict.WRONG


def test_numeric_fallback_decides_what_simplify_leaves():
    import numpy as np

    rng = np.random.default_rng(0)
    assert numerically_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, x, [x], rng) is True
    assert numerically_zero(sp.sin(x) ** 2 - sp.cos(x) ** 2, x, [x], rng) is False
    assert numerically_zero(sp.sqrt(-1 - x**2), x, [x], rng) is False  # complex where the problem is real
    assert numerically_zero(x - x, sp.sqrt(-1 - x**2), [x], rng) is None  # a problem never real: undecidable
    branch = sp.atan(sp.tan(x)) - x  # zero on (-pi/2, pi/2) only: enough for an ODE solution, not an integral
    assert numerically_zero(branch, x, [x], np.random.default_rng(3), everywhere=False) is True
    assert numerically_zero(branch, x, [x], np.random.default_rng(3)) is False


def test_the_time_limit_interrupts_long_work_quickly():
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded), time_limit(0.2):
        while True:
            pass
    assert time.perf_counter() - start < 60  # only a limit that never fires could take this long
    with time_limit(1.0):  # and leaves nothing armed behind it
        time.sleep(0.01)


def test_an_alarm_before_the_deadline_or_after_the_block_never_raises():
    """A late alarm (one on its way when a shorter, inner limit stopped, or when this one did) is ignored."""
    with time_limit(60):
        alarm = signal.getsignal(signal.SIGALRM)
        alarm(signal.SIGALRM, sys._getframe())  # in the block, long before the deadline
    with pytest.raises(TimeLimitExceeded), time_limit(0.05):
        alarm = signal.getsignal(signal.SIGALRM)
        while True:
            pass
    alarm(signal.SIGALRM, sys._getframe())  # expired, but the block is over
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL and signal.getitimer(signal.ITIMER_REAL) == (0, 0)


def test_a_time_limit_never_raises_inside_the_unraisable_hook(monkeypatch):
    """The hook (pytest's, say) reports something else dropped in the block; the limit expires meanwhile."""
    reported = []

    def slow_hook(unraisable):
        start = time.monotonic()
        while time.monotonic() - start < 0.3:
            pass
        reported.append(type(unraisable.exc_value))

    class FailingFinalizer:
        def __del__(self):
            raise ValueError("dropped")

    monkeypatch.setattr(sys, "unraisablehook", slow_hook)
    with pytest.raises(TimeLimitExceeded), time_limit(0.1):
        FailingFinalizer()  # collected at once: the hook outlives the limit
        while True:
            pass
    assert reported == [ValueError] and sys.unraisablehook is slow_hook


def test_a_hard_check_times_out_quickly():
    hard = sp.Add(*[sp.sin(k * x) ** 5 * sp.cos(x) ** 7 for k in range(1, 30)])
    start = time.perf_counter()
    verdict = check_antiderivative(hard, sp.integrate(sp.sin(x), x), x, seconds=0.05)
    assert verdict in (Verdict.TIMEOUT, Verdict.WRONG)
    assert time.perf_counter() - start < 60  # only a check that ignores its limit could take this long


def test_a_broken_hypothesis_is_an_error_not_a_crash():
    assert check_antiderivative(x, sp.Symbol("y") ** sp.zoo, x) in (Verdict.ERROR, Verdict.WRONG)
