"""What a researcher sees (issue 12): the learned-GCD curve first in TensorBoard, figures with axes, runs and
evaluations that say where their output went."""

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_math.callbacks.layout import LAYOUT

from .test_cli import TINY, lit_math

SHORT = [  # epochs of 10 batches: shorter than the examples/s window (50 batches)
    *("--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "2", "--trainer.enable_progress_bar", "false"),
    *("--data.epoch_size", "2560", "--data.per_class", "5", "--data.natural_size", "200"),
]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """A short tiny-GCD fit run in-process; its run folder and what it printed."""
    from lit_math.cli import main

    out = tmp_path_factory.mktemp("tb")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(out)
        try:
            main(["fit", "--config", str(TINY), *SHORT, "--trainer.logger.init_args.save_dir", str(out)])
        except SystemExit as stop:
            assert not stop.code
    return out / "gcd_tiny" / "version_0"


def events(run):
    accumulator = EventAccumulator(str(run), size_guidance={"images": 0, "tensors": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def test_the_headline_curves_have_a_layout_of_their_own(short_run):
    tags = events(short_run).Tags()
    assert "custom_scalars__config__" in tags["tensors"]
    charts = {chart: tags for category in LAYOUT.values() for chart, (_, tags) in category.items()}
    assert charts["learned GCDs"] == [r"^gcd/learned$"]
    scalars = tags["scalars"]
    gcd_group = [t for t in scalars if t.startswith("gcd/")]  # the group that holds gcd/learned stays small
    assert "gcd/learned" in gcd_group and len(gcd_group) <= 6
    assert "gcd_per_class/acc_k001" in scalars and "gcd/acc/k001" not in scalars


def test_the_figures_are_drawn_at_the_size_tensorboard_shows_them(short_run):
    accumulator = events(short_run)
    for tag in ("gcd/learned_curve", "gcd/accuracy_over_validations", "gcd/predictions_per_class"):
        image = accumulator.Images(tag)[-1]
        assert (image.width, image.height) == (400, 256), tag  # a TensorBoard card's width: readable as shown
        assert image.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"


def test_examples_per_second_shows_on_runs_with_short_epochs(short_run):
    rates = events(short_run).Scalars("train/examples_per_s")
    assert len(rates) >= 2 and all(r.value > 0 for r in rates)  # one per epoch at least


def test_fit_ends_with_a_line_naming_the_run_folder_and_prints_no_third_party_noise(tmp_path):
    one_epoch = ["--trainer.max_epochs", "1", *SHORT[2:], "--trainer.logger.init_args.save_dir", "."]
    result = lit_math("fit", "--config", TINY, *one_epoch, cwd=tmp_path)  # a new process: its own warnings
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("lit-math: run folder gcd_tiny/version_0: TensorBoard events, ")
    for name in ("checkpoints/last.ckpt", "config.yaml", "gcd_history.jsonl"):
        assert name in line
    for noise in ("set_vital", "LeafSpec", "litlogger", "deprecated", "Traceback"):
        assert noise not in result.stderr + result.stdout


def test_evaluations_write_no_run_folder_unless_asked(short_run, run_main, tmp_path):
    ckpt = short_run / "checkpoints" / "last.ckpt"
    small = ["--data.per_class", "2", "--data.natural_size", "20", "--trainer.enable_progress_bar", "false"]
    code, err = run_main("validate", "--ckpt_path", ckpt, *small)
    assert code == 0 and list(tmp_path.iterdir()) == []
    assert run_main.out.strip().splitlines()[-1] == "lit-math: validate: no files written (--logdir DIR logs)"
    assert "Be aware that when using `ckpt_path`" not in err and "No seed found" not in err
    code, _ = run_main("test", "--ckpt_path", ckpt, *small, "--logdir", "logs")
    assert code == 0 and run_main.out.strip().splitlines()[-1] == "lit-math: test: logged to logs/test/version_0"
    assert any((tmp_path / "logs" / "test" / "version_0").glob("events.out.tfevents*"))
    code, _ = run_main("predict", "--ckpt_path", ckpt, *small, "--predictions.output_dir", "preds")
    assert code == 0 and "lit-math: predictions written to preds/" in run_main.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "preds"]


def test_a_gpu_preset_without_a_gpu_is_one_line(run_main):
    code, err = run_main("fit", "--config", TINY, "--trainer", TINY.parents[1] / "trainer" / "gpu_bf16.yaml")
    assert code == 2 and err.strip().splitlines()[-1].startswith("lit-math: error: --trainer.accelerator gpu: no CUDA")
