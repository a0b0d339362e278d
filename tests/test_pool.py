"""The finite-data regime: a fixed pool, repeated pass after pass in new orders, never an evaluation problem."""

from types import SimpleNamespace

import numpy as np
import pytest

from lit_math.data.stream import StreamSampler
from lit_math.errors import ConfigError

from .helpers import RecordBatches, tiny_data, tiny_model, trainer


def keys_of(data, problems):
    return data.task.keys({name: np.asarray(values) for name, values in problems.items()})


def epoch_batches(data, epoch, world=1, rank=0):
    data.trainer = SimpleNamespace(world_size=world, global_rank=rank)  # what the loader reads of a DDP trainer
    loader = data.train_dataloader()
    sampler = StreamSampler(data.epoch_size // data.batch_size, world, rank)
    sampler.set_epoch(epoch)
    return [loader.dataset[key] for key in sampler]


def test_the_pool_is_distinct_held_out_free_and_repeats_in_new_orders():
    data = tiny_data(train_size=200, epoch_size=100, batch_size=20)  # two epochs a pass
    pool = data.task.keys(data.pool)
    assert len(np.unique(pool)) == 200
    held_out = np.concatenate([data.task.keys(p) for p in data.eval_problems.values()])
    assert not np.isin(pool, held_out).any()
    seen = [keys_of(data, b["problems"]) for epoch in range(4) for b in epoch_batches(data, epoch)]
    first, second = np.concatenate(seen[:10]), np.concatenate(seen[10:])
    assert sorted(first) == sorted(pool) and sorted(second) == sorted(pool)  # each pass: the pool once
    assert not np.array_equal(first, second)  # in another order
    assert data.eval_set_names == ["natural", "classes", "train_pool"]  # memorisation, scored with the rest
    remembered = data.task.keys(data.evaluated_sets["train_pool"])
    assert len(remembered) == 200 and np.isin(remembered, pool).all()  # as many as the first set, 200 here
    again = tiny_data(train_size=200, epoch_size=100, batch_size=20)
    assert np.array_equal(again.task.keys(again.pool), pool)  # drawn from the seed: a resumed run has it back


def test_ranks_share_the_passes_without_overlap():
    data = tiny_data(train_size=90, epoch_size=120, batch_size=20)  # passes cut across batches and epochs
    alone = [keys_of(data, b["problems"]).tolist() for b in epoch_batches(data, 1)]
    ranks = [[keys_of(data, b["problems"]).tolist() for b in epoch_batches(data, 1, 2, r)] for r in (0, 1)]
    interleaved = [batch for pair in zip(*ranks, strict=True) for batch in pair]
    assert interleaved == alone


def test_two_class_batches_mix_the_pool_with_fresh_problems():
    data = tiny_data(train_size=50, repeated_share=0.25, epoch_size=160, batch_size=16)
    pool = data.task.keys(data.pool)
    batches = [keys_of(data, b["problems"]) for b in epoch_batches(data, 0)]
    assert all(len(b) == 16 for b in batches)
    assert all(np.isin(b[:4], pool).all() for b in batches)
    fresh = np.concatenate([b[4:] for b in batches])
    assert np.isin(fresh, pool).mean() < 0.05 and len(np.unique(fresh)) > 0.95 * len(fresh)


def test_a_run_trains_on_the_pool_only(tmp_path):
    data = tiny_data(train_size=64, epoch_size=128, batch_size=32)
    record = RecordBatches()
    trainer(tmp_path, max_epochs=3, callbacks=[record], limit_val_batches=0).fit(tiny_model(data), data)
    pool = {tuple(sorted(p)) for p in zip(data.pool["a"].tolist(), data.pool["b"].tolist(), strict=True)}
    seen = [tuple(sorted(p)) for p in record.pairs()]
    assert len(seen) == 384 and set(seen) == pool  # six passes of 64


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        (dict(repeated_share=0.5), "below 1 only with train_size"),
        (dict(train_size=10, repeated_share=0.01, batch_size=32), "needs at least one repeated and one fresh"),
        (dict(train_size=0), "train_size must be"),
        (dict(max_int=40, classes=5, per_class=2, natural_size=10, train_size=900), "train_size=900 is more than"),
    ],
)
def test_impossible_regimes_are_named(knobs, message):
    with pytest.raises(ConfigError, match=message):
        data = tiny_data(**knobs)
        data.trainer = None
        data.train_dataloader()


def test_every_pool_problem_is_served_equally_often_whatever_the_number_of_ranks():
    """Ranks drop the batches of an epoch that do not divide among them; the pool's passes skip nothing."""
    data = tiny_data(train_size=100, epoch_size=100, batch_size=10)  # 10 batches an epoch, 3 ranks serve 9
    pool = data.task.keys(data.pool)
    served = [keys_of(data, b["problems"]) for e in range(10) for r in range(3) for b in epoch_batches(data, e, 3, r)]
    _, counts = np.unique(np.concatenate(served), return_counts=True)
    assert len(counts) == len(pool) and set(counts.tolist()) == {9}  # 900 served: nine passes, none skipped


def test_a_task_whose_evaluation_sets_hold_every_problem_is_refused():
    from lit_math.data import ArithmeticDataModule

    data = ArithmeticDataModule(operation="mod_add", modulus=3, eval_size=9, batch_size=4, epoch_size=8)
    data.trainer = None
    with pytest.raises(ConfigError, match="the evaluation sets hold all 9 problems of the task"):
        data.train_dataloader()
