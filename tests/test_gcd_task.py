import math

import numpy as np
import pytest

from lit_math.encoding import Vocabulary
from lit_math.errors import ConfigError
from lit_math.tasks import GCDTask, build_task

N = 200_000


def rng(seed=0):
    return np.random.default_rng(seed)


def words(task, ids):
    return " ".join(task.vocabulary.words(ids))


def test_encoding_follows_the_paper():
    task = GCDTask(base=10, max_int=100)
    source, target = task.encode({"a": np.array([10]), "b": np.array([32])})
    assert words(task, source[0]) == "+ 1 0 + 3 2"
    assert source[0, -1] == Vocabulary.eos_id
    assert target[0].tolist()[:1] == [Vocabulary.bos_id]
    assert words(task, target[0]) == "+ 2"
    assert task.max_source_len == 2 * (1 + 3) + 1 and task.max_target_len == 1 + 4 + 1


def test_score_reads_hypotheses_and_never_raises():
    task = GCDTask(base=10, max_int=100)
    problems = {"a": np.array([10, 10, 10, 10, 10]), "b": np.array([32, 32, 32, 32, 32])}
    ids = task.vocabulary.ids
    eos = Vocabulary.eos_id
    hypotheses = np.array(
        [
            [*ids(["+", "2"]), eos, 0],  # right
            [*ids(["+", "1"]), eos, 0],  # wrong value
            [*ids(["+", "0", "2"]), eos],  # leading zero: malformed
            [*ids(["+", "2", "+"]), eos],  # malformed
            [*ids(["+", "2", "2", "2"])],  # never ends
        ]
    )
    assert task.score(problems, hypotheses).tolist() == [True, False, False, False, False]
    assert task.render(problems, hypotheses) == ["2", "1", "(malformed)", "(malformed)", "(malformed)"]
    assert task.score(problems, np.full((5, 3), 999)).tolist() == [False] * 5


def test_uniform_operands_are_uniform_and_in_range():
    p = GCDTask(max_int=1000).sample(rng(), N)
    assert p["a"].min() >= 1 and p["a"].max() <= 1000
    counts = np.bincount(p["a"] // 100, minlength=11)[:10]
    assert np.allclose(counts / N, 0.1, atol=0.006)


def test_loguniform_operands_have_as_many_one_digit_as_five_digit_numbers():
    task = GCDTask(max_int=10**6, operands="loguniform")
    a = task.sample(rng(), N)["a"]
    digits = np.floor(np.log10(a)).astype(int) + 1
    share = np.bincount(digits, minlength=8) / N
    harmonic = lambda n: float(np.sum(1.0 / np.arange(1, n + 1)))  # noqa: E731
    h = harmonic(10**6)
    assert share[1] == pytest.approx(harmonic(9) / h, abs=0.006)  # exact 1/n law: P(1..9) = H_9 / H_M
    assert share[5] == pytest.approx((harmonic(99_999) - harmonic(9_999)) / h, abs=0.006)
    assert 0.7 < share[1] / share[5] < 1.4


def test_natural_outcomes_follow_six_over_pi_squared_k_squared():
    p = GCDTask(max_int=10**6).sample(rng(), N)
    g = np.gcd(p["a"], p["b"])
    for k in (1, 2, 3, 5):
        assert np.mean(g == k) == pytest.approx(6 / (math.pi**2 * k**2), rel=0.05)


@pytest.mark.parametrize(
    "law,exponent", [("inverse", 1.0), ("inverse_sqrt", 0.5), ("inverse_1_5", 1.5), ("uniform", 0)]
)
def test_drawn_outcome_laws(law, exponent):
    task = GCDTask(max_int=10**6, outcomes=law, max_outcome=20)
    g = task.classes(task.sample(rng(), N))
    assert g.min() >= 1 and g.max() <= 20
    expected = np.arange(1, 21, dtype=float) ** -exponent
    expected /= expected.sum()
    observed = np.bincount(g, minlength=21)[1:] / N
    assert np.allclose(observed, expected, atol=0.005)


def test_mixture_adds_a_share_of_uniform_outcomes():
    task = GCDTask(max_int=10**6, outcomes="natural", mixture=0.5, max_outcome=100)
    g = task.classes(task.sample(rng(), N))
    # half natural (P(gcd=1) about 0.61), half uniform on 1..100 (P = 0.01)
    assert np.mean(g == 1) == pytest.approx(0.5 * 6 / math.pi**2 + 0.5 * 0.01, abs=0.01)
    assert np.mean(g == 97) == pytest.approx(0.5 * 0.01, abs=0.002)


def test_pairs_with_gcd_have_exactly_that_gcd():
    task = GCDTask(max_int=1000, operands="loguniform")
    k = np.repeat(np.arange(1, 101), 50)
    p = task.pairs_with_gcd(rng(), k)
    assert (np.gcd(p["a"], p["b"]) == k).all()
    assert p["a"].max() <= 1000 and p["b"].max() <= 1000


def test_sampling_is_deterministic_given_the_generator():
    task = GCDTask(operands="loguniform", outcomes="inverse", mixture=0.2)
    a, b = task.sample(rng(7), 1000), task.sample(rng(7), 1000)
    assert all((a[k] == b[k]).all() for k in a)


def test_keys_identify_unordered_pairs():
    task = GCDTask(max_int=100)
    keys = task.keys({"a": np.array([3, 7, 7]), "b": np.array([7, 3, 8])})
    assert keys[0] == keys[1] != keys[2]


def test_config_rebuilds_the_task():
    task = GCDTask(base=31, operands="loguniform", outcomes="inverse_sqrt", mixture=0.1)
    assert build_task(task.config()) == task


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"base": 1}, r"base must be an integer 2\.\.100000, got 1"),
        ({"max_int": 1}, r"max_int must be an integer 2\.\.\d+, got 1"),
        ({"operands": "gaussian"}, r"operands must be one of uniform, loguniform; got 'gaussian'"),
        ({"outcomes": "zipf"}, r"outcomes must be one of natural, inverse, .*; got 'zipf'"),
        ({"max_outcome": 0}, r"max_outcome"),
        ({"mixture": 1.5}, r"mixture .* 0\.\.1; got 1\.5"),
    ],
)
def test_bad_configuration_names_the_value(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        GCDTask(**kwargs)


def test_unknown_family():
    with pytest.raises(ConfigError, match="unknown task family 'gdc'"):
        build_task({"family": "gdc"})


@pytest.mark.parametrize(
    "words_,message",
    [
        (["10"], "two integers"),
        (["10", "x"], "'x' is not an integer"),
        (["0", "5"], "outside the trained range 1..100"),
    ],
)
def test_parse_problem_errors(words_, message):
    with pytest.raises(ConfigError, match=message):
        GCDTask(max_int=100).parse_problem(words_)
