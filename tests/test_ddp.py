"""Two CPU processes under DDP (gloo): disjoint training streams and rank-summed evaluation."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lit_math.callbacks import GCDClassPredictions
from lit_math.data.stream import TrainingStream
from lit_math.model import Seq2SeqModule

from .helpers import tiny_data, trainer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ddp_run.py"), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_ranks_train_on_disjoint_batches_that_cover_the_single_process_stream(ddp_run):
    ranks = [json.loads((ddp_run / f"pairs_rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 6 * 64
    steps = [{step: [] for step, _, _ in seen} for seen in ranks]
    for rank, seen in enumerate(ranks):
        for step, a, b in seen:
            steps[rank][step].append((a, b))
    for step in steps[0]:
        assert steps[0][step] != steps[1][step]
    flat = [tuple(p[1:]) for seen in ranks for p in seen]
    assert len(set(flat)) > 0.99 * len(flat)  # max_int 1000: a few pairs coincide by chance, no batch does
    data = tiny_data(natural_size=150, per_class=2)  # what one process would stream: global batches 0, 1, 2, ...
    stream = TrainingStream(data.task, data.batch_size, data.seed, data.held_out)
    for rank in (0, 1):  # rank r's s-th batch is global batch s * 2 + r: together, batches 0..11, none skipped
        for s, step in enumerate(sorted(steps[rank])):
            single = stream.problems(0, s * 2 + rank)
            assert steps[rank][step] == list(zip(single["a"].tolist(), single["b"].tolist(), strict=True))


def test_ddp_accuracy_equals_single_process_accuracy_of_the_same_model(ddp_run, tmp_path):
    ddp_metrics = json.loads((ddp_run / "metrics.json").read_text())
    module = Seq2SeqModule.load_from_checkpoint(ddp_run / "model.ckpt")
    classes = GCDClassPredictions(classes=20)
    results = trainer(tmp_path, callbacks=[classes]).validate(
        module, tiny_data(natural_size=150, per_class=2), verbose=False
    )
    single = {k: v for per_set in results for k, v in per_set.items()}
    for name in ("val/natural/acc", "val/classes/acc"):
        assert ddp_metrics[name] == pytest.approx(single[name], abs=1e-7), name
    assert ddp_metrics["val/natural/loss"] == pytest.approx(single["val/natural/loss"], rel=1e-4)
    for rank in (0, 1):  # each rank logs the table of all ranks, the one a single process sees
        assert json.loads((ddp_run / f"table_rank{rank}.json").read_text()) == classes.table.counts.tolist()
    assert ddp_metrics["gcd/learned"] == single["gcd/learned"] == len(classes.table.learned())


@pytest.mark.slow  # 14 s; DDP training and evaluation stay in the fast suite (the tests above)
def test_the_cli_trains_under_ddp_and_says_once_where_the_run_went(tmp_path):
    """Every rank takes part in the collectives of the closing line (Trainer.log_dir is a broadcast)."""
    from .test_cli import QUICK, TINY, lit_math

    result = lit_math(
        "fit", "--config", TINY, *QUICK, "--trainer.devices", "2", "--trainer.strategy", "ddp",
        "--trainer.logger.init_args.save_dir", ".", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("lit-math: run folder gcd_tiny/version_0") == 1
    assert "It is recommended to use `self.log('gcd" not in result.stderr  # figures summed before they are logged
