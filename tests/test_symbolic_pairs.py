"""Generated pairs of every mode (FWD, BWD, IBP, ODE1, ODE2): every kept pair verifies, by the verifier and by an
independent numeric check; rejections have reasons; time limits hold."""

import time
from collections import Counter

import mpmath
import numpy as np
import pytest
import sympy as sp

from lit_math.encoding.expressions import PrefixCodec
from lit_math.tasks.integration import X, backward_pair, forward_pair, parts_pair
from lit_math.tasks.ode import CONSTANTS, DERIVATIVES, ode_pair
from lit_math.tasks.symbolic import Pair, Rejection
from lit_math.tasks.trees import ExpressionSampler, to_symengine
from lit_math.tasks.verify import Verdict, check_antiderivative, check_ode_solution

CODEC = PrefixCodec()


def independent_check(pair: Pair, rng: np.random.Generator) -> bool:
    """F'(x) = f(x) by mpmath's numerical differentiation (40 digits) at random real points where f is real and
    finite (F itself may be complex there, as log(sin(x) - 1), whose derivative is real); fails when no point
    could be checked, so that it never passes vacuously."""
    F = sp.lambdify(X, pair.solution, modules="mpmath")
    f = sp.lambdify(X, pair.problem, modules="mpmath")
    checked = 0
    with mpmath.workdps(40):
        for point in np.concatenate([rng.uniform(-3, 3, 60), rng.uniform(-10, 10, 200)]):
            try:
                slope, value = (
                    mpmath.mpmathify(mpmath.diff(F, mpmath.mpf(point))),
                    mpmath.mpmathify(f(mpmath.mpf(point))),
                )
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            if not (mpmath.isfinite(slope) and mpmath.isfinite(value)) or abs(value) > 1e100:
                continue  # undefined, or too steep for a finite difference (exp(exp(x**3)) at x = 9)
            if abs(mpmath.im(value)) > 1e-20 * (1 + abs(value)) or abs(mpmath.im(slope)) > 1e-12 * (1 + abs(slope)):
                continue  # outside the real domain of the problem, or of F's branch
            checked += 1
            if abs(mpmath.re(slope) - mpmath.re(value)) > 1e-9 * (1 + abs(value)):
                return False
    return checked >= 1  # cleaning keeps only problems with real values


def pairs(generate, count, max_ops, leaves=("x",)):
    rng, sampler = np.random.default_rng(0), ExpressionSampler(max_ops=max_ops, variables=leaves)
    kept, rejected = [], Counter()
    while len(kept) < count:
        result = generate(rng, sampler, CODEC)
        if isinstance(result, Pair):
            kept.append(result)
        else:
            rejected[result] += 1
    return kept, rejected


INTEGRATION = [  # the default suite checks the property on fewer pairs; `pytest -m slow` on 200 of each
    pytest.param(backward_pair, 5, 80, id="bwd"),
    pytest.param(forward_pair, 3, 60, id="fwd"),
    pytest.param(parts_pair, 3, 20, id="ibp"),
    *(
        pytest.param(generate, max_ops, 200, id=f"{name}-200", marks=pytest.mark.slow)
        for name, generate, max_ops in (("bwd", backward_pair, 5), ("fwd", forward_pair, 3), ("ibp", parts_pair, 3))
    ),
]


@pytest.mark.parametrize("generate,max_ops,count", INTEGRATION)
def test_every_kept_pair_verifies(generate, max_ops, count):
    kept, rejected = pairs(generate, count, max_ops)
    rng = np.random.default_rng(1)
    verdicts = Counter(check_antiderivative(p.problem, p.solution, X, seconds=2.0) for p in kept)
    assert verdicts[Verdict.CORRECT] >= count - 2, verdicts  # the verifier's own time limit may cut one or two
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

    def draw(self, rng):
        return to_symengine(self.expr)


def test_a_hard_integral_hits_the_time_limit_quickly():
    hard = X * sp.exp(X) * sp.sin(X) ** 3 * sp.cos(2 * X) / (1 + sp.tan(X))
    start = time.perf_counter()
    assert forward_pair(np.random.default_rng(0), Fixed(hard), CODEC, seconds=0.1) is Rejection.TIMEOUT
    assert time.perf_counter() - start < 60  # a hang would not end; a loaded machine may be slow, never this slow


def test_an_integral_sympy_cannot_do_is_unevaluated():
    # sympy gives up after about 2 s idle; a limit only a hang reaches, so that a loaded machine cannot time out
    result = forward_pair(np.random.default_rng(0), Fixed(sp.exp(X**2) * sp.sin(X) / X), CODEC, seconds=600)
    assert result in (Rejection.UNEVALUATED, Rejection.NOT_ENCODABLE)  # no closed form, or special functions


def independent_ode_check(pair: Pair, order: int, rng: np.random.Generator) -> tuple[int, int]:
    """At how many random real points (x and constants) the equation vanishes on y(x), and at how many it does
    not, with derivatives by mpmath's numerical differentiation (not sympy's), relative to the size of the
    equation's terms. A wrong solution vanishes at isolated points at most, never at random ones."""
    constants = CONSTANTS[:order]
    y = sp.lambdify([X, *constants], pair.solution, modules="mpmath")
    symbols = [X, *DERIVATIVES[: order + 1]]
    terms = [sp.lambdify(symbols, term, modules="mpmath") for term in sp.Add.make_args(pair.problem)]
    agree = disagree = 0
    with mpmath.workdps(30):
        for point in rng.uniform(-3, 3, (30, 1 + order)):
            x, values = mpmath.mpf(point[0]), [mpmath.mpf(c) for c in point[1:]]
            try:
                ys = [mpmath.diff(lambda t, v=values: y(t, *v), x, k) for k in range(order + 1)]
                parts = [mpmath.mpmathify(term(x, *ys)) for term in terms]
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in [*ys, *parts]):
                continue
            if abs(sum(parts)) <= 1e-8 * (1 + sum(abs(p) for p in parts)):
                agree += 1
            else:
                disagree += 1
    return agree, disagree


ODES = [
    pytest.param(1, 5, 30, id="ode1"),
    pytest.param(2, 4, 20, id="ode2"),
    pytest.param(1, 5, 200, id="ode1-200", marks=pytest.mark.slow),
    pytest.param(2, 4, 200, id="ode2-200", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("order,max_ops,count", ODES)
def test_every_kept_ode_pair_verifies(order, max_ops, count):
    constants = tuple(c.name for c in CONSTANTS[:order])
    codec = PrefixCodec(("x", "y", "dy", "ddy", "c1", "c2"))
    kept, rejected = pairs(lambda r, s, c: ode_pair(r, s, codec, order), count, max_ops, ("x", *constants))
    rng = np.random.default_rng(1)
    derivatives, consts = DERIVATIVES[: order + 1], CONSTANTS[:order]
    verdicts = Counter(check_ode_solution(p.problem, p.solution, X, derivatives, consts, 2.0) for p in kept)
    assert verdicts[Verdict.CORRECT] >= count - 2, verdicts
    checks = [independent_ode_check(p, order, rng) for p in kept]
    assert all(agree > 0 for agree, disagree in checks if agree + disagree > 0)
    assert sum(disagree == 0 for _, disagree in checks) >= 0.9 * count  # a few solutions hold on one branch only
    assert sum(agree >= 3 for agree, _ in checks) >= 0.8 * count  # the check is not vacuous
    assert all(p.problem.has(DERIVATIVES[order]) and all(p.solution.has(c) for c in consts) for p in kept)
    assert rejected[Rejection.TRIVIAL] > 0 and rejected[Rejection.UNEVALUATED] > 0
