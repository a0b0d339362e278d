"""What every family gets from being declared once: typed knobs with help, registration, a checkpoint that
carries its data, and callbacks that either work on it or say in one line why not."""

from __future__ import annotations

import dataclasses

import lightning as L
import numpy as np
import pytest
import torch

from lit_math.callbacks import ErrorAnalysis, GCDClassPredictions, GenerationStats, WritePredictions
from lit_math.checkpoint import saved_data
from lit_math.data import FAMILIES, StreamKnobs, data_from_spec
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.tasks import TASKS, ClassedByAnswer, build_task
from tests.helpers import TINY_MODEL


def gcd_lines(pairs: list[tuple[int, int]]) -> str:
    return "".join(f"+ {' '.join(str(a))} + {' '.join(str(b))}\t+ {np.gcd(a, b)}\n" for a, b in pairs)


SMALL = {
    "GCDDataModule": dict(max_int=100, per_class=2, classes=10, natural_size=16),
    "ArithmeticDataModule": dict(operation="add", max_int=99, eval_size=16),
    "ModularInverseDataModule": dict(max_modulus=50, eval_size=16),
    "PolynomialDataModule": dict(degree=2, eval_size=16),
    "LinearAlgebraDataModule": dict(operation="transpose", rows=2, eval_size=16),
    "IntegrationDataModule": dict(max_ops=2, max_len=32, eval_size=4, seed=1),
    "ODEDataModule": dict(max_ops=2, max_len=48, eval_size=4, seed=1),
    "FileDataModule": dict(types="int,int:int", base=10),
}
"""Small sizes for each family (a new family fails `test_every_family_is_covered` until it has its own)."""


def small(name: str, tmp_path) -> L.LightningDataModule:
    knobs = dict(SMALL[name], batch_size=4, epoch_size=4)
    if name == "FileDataModule":
        (tmp_path / "train.txt").write_text(gcd_lines([(a, a + 6) for a in range(2, 14)]))
        (tmp_path / "valid.txt").write_text(gcd_lines([(4, 6), (9, 12), (5, 7), (8, 12), (3, 9)]))
        knobs.update(train_file=str(tmp_path / "train.txt"), eval_files={"valid": str(tmp_path / "valid.txt")})
    return FAMILIES[name](**knobs)


def test_every_family_is_covered_and_registered():
    assert set(SMALL) == set(FAMILIES)
    assert {cls.settings.__module__ for cls in FAMILIES.values()} <= {t.__module__ for t in TASKS.values()}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_knob_is_typed_documented_and_declared_once(name):
    cls = FAMILIES[name]
    knobs = [f.name for f in dataclasses.fields(cls)]
    assert len(knobs) == len(set(knobs))
    for knob in knobs:  # the docstring lines become --data.KNOB's help
        line = next((line for line in cls.__doc__.splitlines() if line.strip().startswith(f"{knob}: ")), None)
        assert line is not None and len(line.split(": ", 1)[1]) > 10, f"{name}.{knob} has no help"
    stream = {f.name for f in dataclasses.fields(StreamKnobs)}
    assert stream - set(cls.without) <= set(knobs)
    settings = {f.name for f in dataclasses.fields(cls.settings) if f.init}
    assert settings <= set(knobs)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_saved_hyper_parameters_rebuild_the_same_data(name, tmp_path):
    data = small(name, tmp_path)
    saved = dict(data.hparams)
    assert saved.pop("_class_path").endswith(name)
    again = data_from_spec({"class_path": f"lit_math.data.{name}", "init_args": saved})
    assert again.task == data.task == build_task(data.task_config)


def test_an_old_knob_name_is_one_line_naming_the_new_one(run_main):
    with pytest.raises(ConfigError, match="'size' is now 'rows'"):
        data_from_spec({"class_path": "lit_math.data.LinearAlgebraDataModule", "init_args": {"size": 3}})
    code, err = run_main("fit", "--data", "lit_math.data.LinearAlgebraDataModule", "--data.size", "3")
    assert code == 2 and "--data.size is now --data.rows" in err and "Traceback" not in err


def test_a_knob_that_does_not_exist_is_named_with_the_close_one():
    with pytest.raises(ConfigError, match="'bsae' is not a knob of GCDDataModule; did you mean 'base'"):
        data_from_spec({"class_path": "lit_math.data.GCDDataModule", "init_args": {"bsae": 3}})


def fit_with(callbacks: list[L.Callback], data: L.LightningDataModule, tmp_path) -> dict[str, float]:
    """One training batch, one validation, one prediction batch, with `callbacks` attached: what fit logged."""
    torch.manual_seed(0)
    eval_max_len = min(8, data.task.max_target_len - 1)  # symbolic answers are long: a few tokens suffice here
    model = Seq2SeqModule(task=data.task_config, **{**TINY_MODEL, "eval_max_len": eval_max_len})
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=1,  # of one batch, then a validation
        limit_val_batches=1,
        limit_predict_batches=1,
        logger=L.pytorch.loggers.TensorBoardLogger(tmp_path / "tb", name="run"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        default_root_dir=str(tmp_path),
    )
    trainer.fit(model, data)
    logged = {name: float(value) for name, value in trainer.callback_metrics.items()}
    trainer.predict(model, data)
    return logged


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_callback_on_every_family_gives_results_or_one_line(name, tmp_path):
    data = small(name, tmp_path)
    errors, generation, predictions = ErrorAnalysis(), GenerationStats(), WritePredictions()
    callbacks = [errors, generation, predictions]
    classed = isinstance(data.task, ClassedByAnswer)
    table = GCDClassPredictions(eval_set="classes")
    if not classed:  # refused in one line, before any training
        with pytest.raises(ConfigError, match=f"GCDClassPredictions .* {data.task.family!r} is not one"):
            fit_with([table], data, tmp_path / "refused")
    logged = fit_with([*callbacks, table] if classed else callbacks, data, tmp_path)
    assert errors.record is not None and errors.record.sets  # accuracy by class, outcomes among errors
    assert [p.name for p in (tmp_path / "tb").rglob("predictions/*.jsonl")]  # the predictions written
    assert any(name.startswith("val/") for name in logged)
    rejections = {f"data/rejected/{kind}" for kind in data.task.rejection_kinds}
    assert rejections <= set(logged)  # GenerationStats, where the generator rejects draws
    if classed:
        assert table.table is not None and table.table.counts.sum() > 0


def test_a_checkpoint_written_before_a_rename_still_names_its_data():
    old = {
        "datamodule_hyper_parameters": {
            "_class_path": "lit_math.data.linalg.LinearAlgebraDataModule",
            "operation": "transpose",
            "size": 3,
            "min_size": 2,
            "encoding": "P10",
        }
    }
    spec = saved_data(old)
    assert spec["init_args"] == {"operation": "transpose", "rows": 3, "min_rows": 2, "encoding": "P10"}
    assert data_from_spec(spec).task.shapes == [(2, 2), (3, 3)]
