"""The modular-inverse family: the one CONTRIBUTING.md adds to show what a new family takes."""

import numpy as np
import pytest

from lit_math.data import ModularInverseDataModule
from lit_math.encoding import Vocabulary
from lit_math.errors import ConfigError
from lit_math.tasks import build_task
from lit_math.tasks.modular_inverse import ModularInverseTask, inverses


def test_extended_euclid_on_arrays_matches_python():
    rng = np.random.default_rng(0)
    m = rng.integers(2, 2**31 - 1, 2000)
    a = rng.integers(1, m)
    x, g = inverses(a, m)
    for ai, mi, xi, gi in zip(a.tolist(), m.tolist(), x.tolist(), g.tolist(), strict=True):
        assert gi == np.gcd(ai, mi)
        if gi == 1:
            assert xi == pow(ai, -1, mi)


def test_non_invertible_residues_are_drawn_again_and_counted():
    task = ModularInverseTask(min_modulus=12, max_modulus=12)  # units of 12: 1, 5, 7, 11
    problems = task.sample(np.random.default_rng(1), 4000)
    assert set(problems["a"].tolist()) == {1, 5, 7, 11}
    # 7 of the 11 residues are not units: about 7/4 rejections per kept problem
    assert 1.5 < problems["rejected"].sum() / 4000 < 2.0
    assert task.problem_space == 4


def test_the_true_answers_score_and_wrong_or_unreduced_ones_do_not():
    task = ModularInverseTask(base=7, max_modulus=500)
    problems = task.sample(np.random.default_rng(2), 512)
    source, target = task.encode(problems)
    assert source.shape[1] <= task.max_source_len and target.shape[1] <= task.max_target_len
    right, outcomes = task.judge(problems, target[:, 1:])
    assert right.all() and not outcomes["malformed"].any()
    x, _ = inverses(problems["a"], problems["m"])
    unreduced = encode_answers(task, x + problems["m"])  # congruent, but not in 0..m-1
    right, outcomes = task.judge(problems, unreduced)
    assert not right.any() and outcomes["not_reduced"].all()
    wrong = encode_answers(task, (x + 1) % problems["m"])
    assert not task.score(problems, wrong).any()
    assert task.render(problems, target[:1, 1:]) == [str(x[0])]


def encode_answers(task, values):
    ids = [task.vocabulary.ids(task.codec.encode(v)) for v in values]
    width = max(map(len, ids)) + 1
    out = np.full((len(ids), width), Vocabulary.pad_id)
    for i, row in enumerate(ids):
        out[i, : len(row)], out[i, len(row)] = row, Vocabulary.eos_id
    return out


def test_the_data_module_is_the_tasks_knobs_and_rebuilds_from_its_config():
    data = ModularInverseDataModule(base=11, max_modulus=97, eval_size=200, epoch_size=512, batch_size=64)
    assert data.task == build_task(data.task_config) == ModularInverseTask(base=11, max_modulus=97)
    valid = data.eval_problems["valid"]
    assert len(np.unique(data.task.keys(valid))) == 200
    assert "max_modulus: Largest modulus" in ModularInverseDataModule.__doc__
    with pytest.raises(ConfigError, match=r"min_modulus .* got 98"):
        ModularInverseDataModule(min_modulus=98, max_modulus=97)


def test_a_typed_problem_is_checked():
    task = ModularInverseTask(max_modulus=100)
    assert task.parse_problem(["3", "mod", "10"])["a"].tolist() == [3]
    with pytest.raises(ConfigError, match="4 has no inverse modulo 10"):
        task.parse_problem(["4", "10"])
    with pytest.raises(ConfigError, match="outside the trained range"):
        task.parse_problem(["3", "1000"])
