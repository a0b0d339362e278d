"""Several matrix sizes in one run: each problem is answered and judged at its own size, batches stay arrays."""

import numpy as np
import pytest

from lit_math.callbacks import ErrorAnalysis
from lit_math.data import LinearAlgebraDataModule
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.tasks import build_task
from lit_math.tasks.linalg import LinearAlgebraTask
from lit_math.tasks.sizes import LinearAlgebraSizes

from .helpers import TINY_MODEL, trainer


@pytest.mark.parametrize(
    ("operation", "cols"), [("transpose", 4), ("matvec", None), ("eigenvalues", None), ("inverse", None), ("svd", 3)]
)
def test_each_problem_is_answered_at_its_own_size(operation, cols):
    t = LinearAlgebraSizes(operation=operation, rows=5, min_rows=2, cols=cols)
    problems = t.sample(np.random.default_rng(0), 400)
    dims = problems["dims"]
    expected = {(r, c) for r in range(2, 6) for c in range(2, (cols or 5) + 1) if cols or r == c}
    assert {tuple(d) for d in dims} == expected  # every size drawn, no other
    for i in range(0, 400, 37):
        r, c = dims[i]
        m = problems["matrix"][i]
        assert np.isfinite(m[:r, :c]).all() and np.isnan(m[r:]).all() and np.isnan(m[:, c:]).all()
        one = LinearAlgebraTask(operation=operation, rows=int(r), cols=int(c))
        shapes = one.entry_shapes()
        alone = {name: problems[name][i : i + 1][(slice(None), *map(slice, shapes[name]))] for name in ("matrix",)}
        if "other" in problems:
            alone["other"] = problems["other"][i : i + 1][(slice(None), *map(slice, shapes["other"]))]
        flat = np.concatenate([p.reshape(-1) for p in one.truth(alone)])
        answer = problems["answer"][i]
        assert np.allclose(answer[: len(flat)], flat) and np.isnan(answer[len(flat) :]).all()
    source, target = t.encode(problems)
    assert source.shape[1] <= t.max_source_len and target.shape[1] <= t.max_target_len
    assert t.score(problems, target[:, 1:]).all()
    shifted = np.roll(target[:, 1:], 1, axis=0)  # another problem's answer, often of another size
    assert t.score(problems, shifted).mean() < 0.05


def test_the_same_entries_at_another_size_are_another_problem():
    t = LinearAlgebraSizes(operation="transpose", rows=3, min_rows=2, cols=3)
    problems = t.sample(np.random.default_rng(1), 200)
    wide = np.flatnonzero((problems["dims"] == (2, 3)).all(axis=1))[0]
    tall = {name: values[wide : wide + 1].copy() for name, values in problems.items()}
    tall["matrix"] = np.full((1, 3, 3), np.nan)
    tall["matrix"][0, :3, :2] = problems["matrix"][wide, :2, :3].reshape(3, 2)
    tall["dims"] = np.array([[3, 2]])
    assert t.keys(tall)[0] != t.keys(problems)[wide]
    assert len(set(t.keys(problems).tolist())) == len({tuple(np.nan_to_num(m).ravel()) for m in problems["matrix"]})


def test_a_size_range_task_is_rebuilt_from_its_config_and_checks_its_knobs():
    t = LinearAlgebraSizes(operation="eigenvalues", rows=6, min_rows=3, output_encoding="FP15", max_exponent=4)
    again = build_task(t.config())
    assert isinstance(again, LinearAlgebraSizes) and again.shapes == [(3, 3), (4, 4), (5, 5), (6, 6)]
    largest = LinearAlgebraTask(operation="eigenvalues", rows=6, output_encoding="FP15", max_exponent=4)
    assert again.vocabulary.tokens == largest.vocabulary.tokens
    assert (again.max_source_len, again.max_target_len) == (largest.max_source_len, largest.max_target_len)
    with pytest.raises(ConfigError, match=r"min_rows.*7"):
        LinearAlgebraSizes(operation="transpose", rows=5, min_rows=7)
    with pytest.raises(ConfigError, match="cols=2 is smaller than min_rows=3"):
        LinearAlgebraSizes(operation="transpose", rows=5, min_rows=3, cols=2)


def test_problems_typed_by_people_find_their_size():
    t = LinearAlgebraSizes(operation="transpose", rows=4, min_rows=2, cols=4)
    square = t.parse_problem(["1 2 3 4 5 6 7 8 9"])  # nine numbers: only 3x3
    assert square["dims"].tolist() == [[3, 3]]
    wide = t.parse_problem(["2x3", "1", "2", "3", "4", "5", "6"])
    assert wide["dims"].tolist() == [[2, 3]] and np.allclose(wide["answer"][0, :6], [1, 4, 2, 5, 3, 6])
    with pytest.raises(ConfigError, match=r"12 numbers fit 2 sizes.*give the size first"):
        t.parse_problem([" ".join(["1"] * 12)])
    with pytest.raises(ConfigError, match="size 5x5 is not one of"):
        t.parse_problem(["5x5", *["1"] * 25])


def test_a_run_over_sizes_reports_accuracy_by_size(tmp_path):
    data = LinearAlgebraDataModule(
        operation="transpose", rows=3, min_rows=2, epoch_size=256, batch_size=64, eval_size=32, seed=5
    )
    assert data.eval_set_names == ["valid", "2x2", "3x3"]
    held_out = np.concatenate([data.task.keys(p) for p in data.eval_problems.values()])
    data.trainer = None
    batch = next(iter(data.train_dataloader()))
    assert {tuple(d) for d in batch["problems"]["dims"].tolist()} == {(2, 2), (3, 3)}
    assert not np.isin(data.task.keys(batch["problems"]), held_out).any()
    module = Seq2SeqModule(task=data.task_config, **TINY_MODEL)
    analysis = ErrorAnalysis()
    fit = trainer(tmp_path, max_epochs=1, callbacks=[analysis])
    fit.fit(module, data)
    logged = fit.callback_metrics
    assert {"val/valid/acc", "val/2x2/acc", "val/3x3/acc"} <= set(logged)
    assert set(analysis.accuracy_by_class) == {"valid", "2x2", "3x3"}
    no_sets = LinearAlgebraDataModule(operation="transpose", rows=3, min_rows=2, eval_size=8, eval_by_size=False)
    assert no_sets.eval_set_names == ["valid"]
