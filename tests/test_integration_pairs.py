"""FWD and BWD integration pairs: every kept pair verifies; rejections have reasons; time limits hold."""

import time
from collections import Counter

import mpmath
import numpy as np
import pytest
import sympy as sp

from lit_math.encoding.expressions import PrefixCodec
from lit_math.tasks.integration import Pair, Rejection, X, backward_pair, forward_pair
from lit_math.tasks.trees import ExpressionSampler
from lit_math.tasks.verify import Verdict, check_antiderivative

CODEC = PrefixCodec()


def independent_check(pair: Pair, rng: np.random.Generator) -> bool:
    """F'(x) = f(x) by mpmath's numerical differentiation at real points where both are finite and real."""
    F = sp.lambdify(X, pair.solution, modules="mpmath")
    f = sp.lambdify(X, pair.problem, modules="mpmath")
    checked = 0
    for point in rng.uniform(-3, 3, 30):
        try:
            slope, value = mpmath.diff(F, mpmath.mpf(point)), f(mpmath.mpf(point))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            continue
        if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in (slope, value)):
            continue  # complex or infinite: outside the real domain
        checked += 1
        if abs(slope - value) > 1e-6 * (1 + abs(value)):
            return False
    return checked >= 3 or checked == 0  # a pair with no real point says nothing either way


def pairs(generate, count, max_ops):
    rng, sampler = np.random.default_rng(0), ExpressionSampler(max_ops=max_ops)
    kept, rejected = [], Counter()
    while len(kept) < count:
        result = generate(rng, sampler, CODEC)
        if isinstance(result, Pair):
            kept.append(result)
        else:
            rejected[result] += 1
    return kept, rejected


@pytest.mark.parametrize("generate,max_ops", [(backward_pair, 5), (forward_pair, 3)], ids=["bwd", "fwd"])
def test_every_kept_pair_verifies(generate, max_ops):
    kept, rejected = pairs(generate, 200, max_ops)
    rng = np.random.default_rng(1)
    verdicts = Counter(check_antiderivative(p.problem, p.solution, X, seconds=2.0) for p in kept)
    assert verdicts[Verdict.CORRECT] >= 198, verdicts  # the verifier's own time limit may cut one or two
    assert all(independent_check(p, rng) for p in kept)
    assert all(
        CODEC.decode(p.problem_tokens) == p.problem and CODEC.decode(p.solution_tokens) == p.solution for p in kept
    )
    assert all(p.problem.has(X) for p in kept)
    assert rejected[Rejection.TRIVIAL] > 0  # trivial draws happen and are rejected, not kept


def test_length_limit_rejects_long_pairs():
    kept, rejected = pairs(lambda r, s, c: backward_pair(r, s, c, max_len=8), 20, 5)
    assert all(max(len(p.problem_tokens), len(p.solution_tokens)) <= 8 for p in kept)
    assert rejected[Rejection.TOO_LONG] > 0


class Fixed:
    def __init__(self, expr):
        self.expr = expr

    def sample(self, rng):
        return self.expr


def test_a_hard_integral_hits_the_time_limit_quickly():
    hard = X * sp.exp(X) * sp.sin(X) ** 3 * sp.cos(2 * X) / (1 + sp.tan(X))
    start = time.perf_counter()
    assert forward_pair(np.random.default_rng(0), Fixed(hard), CODEC, seconds=0.1) is Rejection.TIMEOUT
    assert time.perf_counter() - start < 1.5


def test_an_integral_sympy_cannot_do_is_unevaluated():
    result = forward_pair(np.random.default_rng(0), Fixed(sp.exp(X**2) * sp.sin(X) / X), CODEC, seconds=10)
    assert result in (Rejection.UNEVALUATED, Rejection.NOT_ENCODABLE)  # no closed form, or special functions
