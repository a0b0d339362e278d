"""Mixtures of training distributions: exact shares, every member's evaluation problems held out of every
member's training, resume mid-epoch, ranks that never repeat a batch, evaluation under each member's name."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_math.callbacks import MixtureShares
from lit_math.data import MixtureDataModule
from lit_math.data.mixture import batches_per_member
from lit_math.data.stream import StreamSampler
from lit_math.errors import ConfigError

from .helpers import RecordBatches, tiny_model, trainer

FAST = dict(limit_val_batches=0, num_sanity_val_steps=0)
SMALL_GCD = dict(base=10, max_int=100, per_class=4, classes=10, natural_size=150)


def gcd(**knobs):
    return {"class_path": "lit_math.data.GCDDataModule", "init_args": {**SMALL_GCD, **knobs}}


def mixture(weights=None, **knobs):
    """Natural GCD outcomes primed with uniform ones, over a small space (10,000 pairs) where held-out problems
    are often drawn."""
    members = {"natural": gcd(), "uniform": gcd(outcomes="uniform", max_outcome=10)}
    options = dict(epoch_size=64 * 20, batch_size=64, seed=3)
    return MixtureDataModule(members=members, weights=weights, **{**options, **knobs})


def served(data, epochs, world=1, rank=0):
    data.setup("fit")
    batches = data.epoch_size // data.batch_size
    stream = data.training_stream(batches, world)
    sampler = StreamSampler(batches, world, rank)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for key in sampler:
            yield key, stream[key]


def test_largest_remainder_gives_each_member_its_share_of_the_batches():
    assert batches_per_member([0.95, 0.05], 40).tolist() == [38, 2]
    assert batches_per_member([1, 1, 1], 10).tolist() == [4, 3, 3]
    assert batches_per_member([2, 1], 9).sum() == 9


def test_each_epoch_serves_every_member_its_exact_share_in_a_new_order():
    data = mixture(weights={"natural": 0.9, "uniform": 0.1})
    orders = []
    for epoch in range(3):
        members = [int(batch["member"]) for (e, _), batch in served(data, 3) if e == epoch]
        assert Counter(members) == {0: 18, 1: 2}
        orders.append(members)
    assert orders[0] != orders[1] or orders[1] != orders[2]  # the order is drawn per epoch
    uniform = [batch for _, batch in served(data, 1) if int(batch["member"]) == 1]
    gcds = np.gcd(uniform[0]["problems"]["a"].numpy(), uniform[0]["problems"]["b"].numpy())
    assert len(set(gcds.tolist())) > 3  # that member's batches are its own distribution (uniform outcomes)


def test_no_member_trains_on_any_members_evaluation_problem():
    data = mixture()
    held = np.concatenate(
        [
            member.task.keys(problems)
            for member in data.member_data.values()
            for problems in member.evaluated_sets.values()
        ]
    )
    natural_only = data.member_data["natural"].eval_problems
    assert len(held) > sum(len(p["a"]) for p in natural_only.values())  # both members hold problems out
    problems = [{k: v.numpy() for k, v in batch["problems"].items()} for _, batch in served(data, 4)]
    drawn = np.concatenate([data.task.keys(p) for p in problems])
    assert len(drawn) == 4 * 20 * 64 and not np.isin(drawn, held).any()


def test_ranks_share_out_the_mixture_without_repeating_a_batch():
    one = {key: batch for key, batch in served(mixture(), 1)}
    ranks = [dict(served(mixture(), 1, world=2, rank=rank)) for rank in (0, 1)]
    assert set(ranks[0]).isdisjoint(ranks[1]) and set(ranks[0]) | set(ranks[1]) == set(one)
    for key, batch in {**ranks[0], **ranks[1]}.items():  # a batch is the same whichever rank serves it
        assert int(batch["member"]) == int(one[key]["member"])
        assert batch["problems"]["a"].tolist() == one[key]["problems"]["a"].tolist()


def test_a_resumed_mixture_sees_what_an_uninterrupted_one_sees(tmp_path):
    whole = RecordBatches()
    trainer(tmp_path / "a", max_steps=30, callbacks=[whole], **FAST).fit(tiny_model(mixture()), mixture())
    first, second = RecordBatches(), RecordBatches()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=13, save_top_k=-1)
    trainer(tmp_path / "b", max_steps=13, callbacks=[first, checkpoint], enable_checkpointing=True, **FAST).fit(
        tiny_model(mixture()), mixture()
    )
    trainer(tmp_path / "b", max_steps=30, callbacks=[second], **FAST).fit(
        tiny_model(mixture()), mixture(), ckpt_path=str(tmp_path / "ckpt" / "epoch=0-step=13.ckpt")
    )
    assert first.seen + second.seen == whole.seen


def test_shares_are_logged_and_each_member_is_evaluated_under_its_name(tmp_path):
    data = mixture(weights={"natural": 3, "uniform": 1})
    fit = trainer(tmp_path, max_epochs=1, callbacks=[MixtureShares()], limit_val_batches=1, num_sanity_val_steps=0)
    fit.fit(tiny_model(data), data)
    metrics = fit.callback_metrics
    assert float(metrics["data/share/natural"]) == pytest.approx(0.75)
    assert float(metrics["data/share/uniform"]) == pytest.approx(0.25)
    assert sorted(data.eval_set_names) == ["natural/classes", "natural/natural", "uniform/classes", "uniform/natural"]
    assert {f"val/{name}/acc" for name in data.eval_set_names} <= set(metrics)


@pytest.mark.parametrize(
    "members,weights,message",
    [
        ({"natural": gcd()}, None, r"at least two members"),
        ({"a": gcd(), "b": gcd()}, {"a": 1}, r"weights \['a'\] must name exactly the members \['a', 'b'\]"),
        ({"a": gcd(), "b": gcd()}, {"a": 1, "b": 0}, r"weight of member 'b' must be a positive number, got 0"),
        ({"a": gcd(), "b": gcd(batch_size=8)}, None, r"member 'b' sets \['batch_size'\]: set them on the mixture"),
        ({"a": gcd(), "b": gcd(base=30)}, None, r"members 'a' and 'b' need different networks .* same encoding"),
        (
            {"a": gcd(), "b": gcd(bse=30)},
            None,
            r"member 'b': 'bse' is not a knob of GCDDataModule; did you mean 'base'",
        ),
        ({"a": gcd(), "a/b": gcd()}, None, r"member name 'a/b'"),
        (
            {"a": gcd(), "b": {"class_path": "lit_math.data.ArithmeticDataModule", "init_args": {}}},
            None,
            r"members 'a' and 'b' (are different families|need different networks)",
        ),
        ({"a": gcd(), "b": gcd()}, {"a": 1000, "b": 1}, r"member\(s\) \['b'\] get no batch of an epoch of 20"),
    ],
)
def test_a_mixture_that_cannot_be_is_one_line(members, weights, message):
    with pytest.raises(ConfigError, match=message):
        MixtureDataModule(members=members, weights=weights, epoch_size=64 * 20, batch_size=64)


CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "mixtures"


def test_the_primed_gcd_config_fits_and_its_checkpoint_validates_on_its_own_mixture(run_main, tmp_path):
    small = ["--data.epoch_size", "5120", "--trainer.max_epochs", "1", "--trainer.limit_val_batches", "1"]
    logs = ["--trainer.logger.init_args.save_dir", str(tmp_path / "logs"), "--checkpoint.dirpath", str(tmp_path)]
    code, err = run_main("fit", "--config", CONFIGS / "gcd_primed.yaml", *small, *logs)
    assert code == 0, err[-3000:]
    code, err = run_main("validate", "--ckpt_path", tmp_path / "last.ckpt", "--trainer.limit_val_batches", "1")
    assert code == 0, err[-3000:]
    for name in ("natural/natural", "natural/classes", "primer/natural", "primer/classes"):
        assert f"val/{name}/acc" in run_main.out


def test_the_eigenvalue_laws_config_mixes_two_spectra_of_one_network():
    from lit_math.cli import build_cli

    cli = build_cli(["--config", str(CONFIGS / "eigenvalues_laws_cpu.yaml")], run=False)
    members = cli.datamodule.member_data
    assert {name: data.task.eigen_distribution for name, data in members.items()} == {
        "semicircle": "semicircle",
        "laplace": "laplace",
    }
    assert cli.model.task == members["semicircle"].task and cli.datamodule.counts.tolist() == [250, 250]
