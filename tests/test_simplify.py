"""Cheap simplification and nested time limits, which make the symbolic generators fast."""

import time

import numpy as np
import pytest
import sympy as sp

from lit_math.encoding.expressions import PrefixCodec
from lit_math.tasks.simplify import simplified, tokens
from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit, within
from lit_math.tasks.trees import ExpressionSampler

x = sp.Symbol("x")
CODEC = PrefixCodec()


def test_simplified_forms_are_equal_never_longer_and_decode_to_themselves():
    rng, sampler = np.random.default_rng(0), ExpressionSampler(max_ops=6)
    for _ in range(60):
        derivative = sp.diff(sampler.sample(rng), x)
        if tokens(CODEC, derivative) == float("inf"):
            continue
        short = simplified(derivative, CODEC)
        assert tokens(CODEC, short) <= tokens(CODEC, derivative)
        assert CODEC.decode(CODEC.encode(short)) == short
        point = {x: sp.Rational(3, 7)}
        a, b = complex(derivative.evalf(30, subs=point)), complex(short.evalf(30, subs=point))
        assert abs(a - b) <= 1e-9 * (1 + abs(a)), (derivative, short)


def test_the_derivatives_of_tan_and_tanh_lose_their_pythagorean_sums():
    assert simplified(sp.diff(sp.tan(x**2), x), CODEC) == 2 * x / sp.cos(x**2) ** 2
    assert simplified(sp.diff(sp.tanh(3 * x), x), CODEC) == 3 / sp.cosh(3 * x) ** 2


def test_within_gives_up_on_a_step_and_keeps_the_outer_limit():
    def spin():
        while True:
            pass

    steps = []
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.5):
            steps.append(within(0.1, spin, "gave up"))  # gave up at its own limit, not the outer one
            spin()  # the outer limit still holds, at its own deadline
    assert steps == ["gave up"]
    assert time.perf_counter() - start >= 0.5  # never early (a loaded machine is only later: no upper bound)
    assert within(1.0, lambda: 42, None) == 42
