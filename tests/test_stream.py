from collections import Counter

import numpy as np
import pytest

from lit_math.data.stream import EvaluationShard, HeldOut, StreamSampler, TrainingStream, WholeShard
from lit_math.errors import ConfigError
from lit_math.tasks import GCDTask

from .helpers import pairs, tiny_data


def keys_for(epoch, batches, world, rank):
    sampler = StreamSampler(batches, world, rank)
    sampler.set_epoch(epoch)
    return list(sampler)


def test_ranks_share_out_the_epoch_without_overlap():
    per_rank = [keys_for(0, 10, 3, r) for r in range(3)]
    flat = [k for keys in per_rank for k in keys]
    assert len(flat) == len(set(flat)) == 9  # 10 batches for 3 ranks: 3 each, the tenth dropped
    assert {len(k) for k in per_rank} == {3}
    assert keys_for(1, 10, 3, 0) != keys_for(0, 10, 3, 0)


def test_an_epoch_too_small_for_the_ranks_is_refused():
    with pytest.raises(ConfigError, match="raise epoch_size"):
        StreamSampler(1, 2, 0)


def test_every_key_has_its_own_stream_and_the_same_seed_reproduces_it():
    stream = TrainingStream(GCDTask(), 32, seed=5, held_out=HeldOut(GCDTask(), []))
    batches = {key: pairs(stream[key]) for key in [(0, 0), (0, 1), (1, 0), (1, 1)]}
    assert len({tuple(b) for b in batches.values()}) == 4
    again = TrainingStream(GCDTask(), 32, seed=5, held_out=HeldOut(GCDTask(), []))
    assert pairs(again[(1, 1)]) == batches[(1, 1)]
    other_seed = TrainingStream(GCDTask(), 32, seed=6, held_out=HeldOut(GCDTask(), []))
    assert pairs(other_seed[(1, 1)]) != batches[(1, 1)]


def loader_pairs(data, epoch=0):
    loader = data.train_dataloader()
    loader.sampler.set_epoch(epoch)
    return [pairs(batch) for batch in loader]


@pytest.mark.parametrize("num_workers", [2])
def test_workers_never_repeat_a_batch_and_do_not_change_the_data(num_workers):
    single = loader_pairs(tiny_data(max_int=10**6))
    workers = loader_pairs(tiny_data(max_int=10**6, num_workers=num_workers))
    assert workers == single  # the same batches in the same order, whoever generated them
    flat = [p for batch in single for p in batch]
    assert len(set(map(tuple, single[0])) & set(map(tuple, single[1]))) == 0
    assert len(set(flat)) > 0.99 * len(flat)


def test_epochs_draw_fresh_batches():
    data = tiny_data(max_int=10**6)
    assert loader_pairs(data, 0) != loader_pairs(data, 1)


def test_training_never_yields_an_evaluation_problem():
    # max_int 30: 465 unordered pairs, evaluation sets hold a good share of them, so collisions are certain.
    data = tiny_data(max_int=30, max_outcome=30, classes=10, per_class=5, natural_size=60, epoch_size=64 * 40)
    held = {
        tuple(sorted(p))
        for problems in data.eval_problems.values()
        for p in zip(problems["a"].tolist(), problems["b"].tolist(), strict=True)
    }
    assert len(held) > 50
    raw = data.task.sample(np.random.default_rng(0), 2000)
    assert any(tuple(sorted(p)) in held for p in zip(raw["a"].tolist(), raw["b"].tolist(), strict=True))
    seen = Counter(tuple(sorted(p)) for batch in loader_pairs(data) for p in batch)
    assert sum(seen.values()) == 64 * 40
    assert not held & set(seen)


def test_evaluation_sets_are_fixed_by_their_own_seed():
    a, b = tiny_data(seed=1), tiny_data(seed=2)
    assert all((a.eval_problems[s][k] == b.eval_problems[s][k]).all() for s in a.eval_set_names for k in ("a", "b"))
    classes = a.eval_problems["classes"]
    gcd = np.gcd(classes["a"], classes["b"])
    assert (np.bincount(gcd)[1:] == 4).all() and gcd.max() == 20
    c = tiny_data(eval_seed=9)
    assert not (c.eval_problems["natural"]["a"] == a.eval_problems["natural"]["a"]).all()


def test_held_out_problems_exhausting_the_space_is_a_clear_error():
    data = tiny_data(max_int=3, max_outcome=3, classes=1, per_class=30, natural_size=50)
    with pytest.raises(ConfigError, match="the evaluation sets hold all 6 problems of the task"):
        data.train_dataloader()


@pytest.mark.parametrize("size,world", [(150, 2), (40, 3), (4, 4), (7, 2)])
def test_evaluation_sets_are_split_between_ranks_each_problem_exactly_once(size, world):
    task = GCDTask(max_int=10**6)
    problems = task.sample(np.random.default_rng(0), size)
    shards = [EvaluationShard(task, problems, 64, world, rank) for rank in range(world)]
    assert all(len(shard) >= 1 for shard in shards)  # every rank logs every set
    seen = sorted(p for shard in shards for batch in shard.batches for p in pairs(batch))
    assert seen == sorted(zip(problems["a"].tolist(), problems["b"].tolist(), strict=True))
    assert [list(WholeShard(len(s))) for s in shards] == [list(range(len(s))) for s in shards]


def test_an_evaluation_set_smaller_than_the_world_is_refused():
    data = tiny_data(natural_size=1)
    data.trainer = type("FakeTrainer", (), {"world_size": 2, "global_rank": 0})()
    with pytest.raises(ConfigError, match="evaluation set 'natural' has 1 problems for 2 devices"):
        data.val_dataloader()


def test_each_evaluation_set_depends_only_on_its_own_knobs():
    small, large = tiny_data(natural_size=100), tiny_data(natural_size=300)
    for name in ("a", "b"):
        assert (small.eval_problems["classes"][name] == large.eval_problems["classes"][name]).all()
    assert not (small.eval_problems["natural"]["b"] == large.eval_problems["natural"]["b"][:100]).all()


def test_held_out_membership_is_exact_beyond_the_filter():
    task = GCDTask(max_int=2**31)
    shift = 1 << HeldOut.FILTER_BITS  # keys equal in their low bits collide in the filter
    held = HeldOut(task, [{"a": np.array([1, 5]), "b": np.array([7, 9])}])
    base = task.keys({"a": np.array([1, 5]), "b": np.array([7, 9])})
    probes = np.concatenate([base, base + shift, base - shift, [0]])
    assert held.contains(probes).tolist() == [True, True, False, False, False, False, False]
