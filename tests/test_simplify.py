"""Cheap simplification and nested time limits, which make the symbolic generators fast."""

import time

import numpy as np
import pytest
import symengine as se
import sympy as sp

from lit_math.encoding.expressions import PrefixCodec
from lit_math.tasks.integration import derivative
from lit_math.tasks.simplify import MAX_EXPANDED_TERMS, expanded_terms, simplified, tokens
from lit_math.tasks.symbolic import real_somewhere
from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit, within
from lit_math.tasks.trees import ExpressionSampler, to_sympy

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


def test_symengine_derivatives_equal_sympy_ones_on_random_trees_acosh_included():
    rng, sampler = np.random.default_rng(3), ExpressionSampler(max_ops=6, weights={"add": 1, "mul": 1, "acosh": 1})
    for _ in range(30):
        F = sampler.draw(rng)
        ours, theirs = to_sympy(derivative(F)), sp.diff(to_sympy(F), x)
        for point in (-3.5, 0.4, 2.7):  # acosh's branch for u < -1 is where symengine's own rule is wrong
            a, b = complex(ours.evalf(30, subs={x: point})), complex(theirs.evalf(30, subs={x: point}))
            assert abs(a - b) <= 1e-9 * (1 + abs(b)), (F, ours, theirs)


def test_the_codec_writes_symengine_trees_as_the_same_expressions():
    sampler = ExpressionSampler(max_ops=8)
    for seed in range(40):
        F = sampler.draw(np.random.default_rng(seed))
        if tokens(CODEC, F) == float("inf"):
            continue
        a, b = CODEC.rebuilt(F).evalf(30, subs={x: 0.7}), to_sympy(F).evalf(30, subs={x: 0.7})
        assert abs(complex(a) - complex(b)) <= 1e-9 * (1 + abs(complex(b))), (F, a, b)


def test_expansions_are_bounded_before_symengine_is_called():
    a = se.Symbol("x") + se.sin(se.Symbol("x")) + 1
    assert expanded_terms(a**2) == 6 and expanded_terms(a * (se.Symbol("x") + 2)) == 6
    assert expanded_terms((a**5) ** 5) > MAX_EXPANDED_TERMS  # simplified skips expanding it
    short = simplified((a**5) ** 5, CODEC)
    assert short.has(sp.sin(x))


def test_realness_is_judged_at_the_fixed_points():
    assert not real_somewhere(x / sp.sqrt(-(x**2) - 1)) and not real_somewhere(sp.acosh(x) * sp.atanh(x))
    assert real_somewhere(sp.sqrt(x)) and real_somewhere(sp.cosh(sp.exp(sp.exp(x))))  # no mpmath hang
