"""Bad input as a new user gives it: never code run, never a hang, never a traceback; one line and exit code 2.

Each test here reproduces a defect found on the code as it was (issue 11) and holds the fix.
"""

import gc
import json
import os
import re
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

from lit_math.checkpoint_io import AtomicCheckpointIO
from lit_math.data import FileDataModule
from lit_math.data.files import MAX_LINE_BYTES, MAX_LINE_TOKENS
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.tasks import build_task
from lit_math.tasks.gcd import GCDTask
from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit

from .helpers import untrained_checkpoint
from .test_cli import QUICK, TINY, lit_math

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = "__import__('os').system('touch pwned')"
INTEGRATION = {"family": "integration", "mode": "bwd", "max_ops": 5, "max_len": 64}
HANG = 120
"""Seconds after which a command that should stop at once counts as hanging (it would run for hours)."""


# --- code in the input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "family",
    [
        INTEGRATION,
        {"family": "ode", "order": 1, "max_ops": 5, "max_len": 64},
        {"family": "polynomials", "operation": "roots", "degree": 2},
    ],
    ids=lambda f: f["family"],
)
@pytest.mark.parametrize(
    "text",
    [PAYLOAD, "x.__class__", "lambda: x", "__builtins__", "eval('x')", "exec('x')", "[x for x in ()]"],
)
def test_typed_problems_are_never_run_as_python(family, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"cannot read|is not a polynomial"):
        build_task(family).parse_problem([text])
    assert not (tmp_path / "pwned").exists()


def test_translate_refuses_code_in_one_line_and_runs_nothing(run_main, tmp_path):
    ckpt = untrained_checkpoint(INTEGRATION, tmp_path / "integration.ckpt")
    code, err = run_main("translate", "--ckpt", ckpt, PAYLOAD)
    assert code == 2 and "is not part of the grammar" in err
    assert "Traceback" not in err and not (tmp_path / "pwned").exists()
    code, err = run_main("translate", "--ckpt", ckpt, "x+" * 50_000 + "x")  # Linux: 128 KiB an argument
    assert code == 2 and "at most 10,000 are read" in err and len(err) < 2000


# --- evaluation files typed in infix (issue 15) ------------------------------------------------------------
@pytest.mark.parametrize(
    "line,message",
    [
        ("x*(1 + ", r"the expression ends early"),
        (PAYLOAD, r"'_' at character 1 is not part of the grammar"),
        ("x.__class__", r"'\.' at character 2 is not part of the grammar"),
        ("x\u00b2 + 1", r"'\u00b2' at character 2 is not part of the grammar"),  # x², unicode
        ("\u221ax", r"'\u221a' at character 1 is not part of the grammar"),  # √x
        ("x = 1", r"unexpected '=' at character 3"),
        ("x\tx**2/2\t1", r"expected PROBLEM or PROBLEM<TAB>ANSWER"),
    ],
)
def test_a_bad_line_of_a_typed_evaluation_file_stops_with_file_and_line(line, message, tmp_path, monkeypatch):
    from lit_math.data import IntegrationDataModule

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "mine.txt"
    path.write_text(f"x\tx**2/2\n{line}\n", encoding="utf-8")
    data = IntegrationDataModule(max_len=64, eval_files={"textbook": str(path)})
    with pytest.raises(ConfigError, match=rf"^{path}:2: .*{message}"):
        data.eval_problems  # noqa: B018
    assert not (tmp_path / "pwned").exists()


def test_a_typed_evaluation_file_never_runs_a_name_and_reads_huge_or_binary_lines_in_bounded_pieces(tmp_path):
    from lit_math.data import IntegrationDataModule
    from lit_math.data.typed import read_typed

    names = tmp_path / "names.txt"  # names are looked up in the grammar's table, never in Python's
    names.write_text("eval(x)\nexec(x)\nopen(x)\nx\n")
    read = read_typed(names, build_task(INTEGRATION))
    assert read.lines == 4 and read.counts == {"problems not encodable": 3}
    assert "unknown name 'eval'" in read.first["problems not encodable"]
    for name, content, message in (
        ("huge.txt", b"x\n" + b"x+" * 5_000_000 + b"x\nx\n", f"huge.txt:2: the line is longer than {MAX_LINE_BYTES:,}"),
        ("binary.txt", b"x\n\xff\xfe(x)\n", "binary.txt:2: not UTF-8 (byte 1 of the line)"),
    ):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ConfigError, match=re.escape(message)):
            IntegrationDataModule(max_len=64, eval_files={"t": str(tmp_path / name)}).eval_problems  # noqa: B018
    with pytest.raises(ConfigError, match=r"eval_files: no such file \{'t': '.*missing.txt'\}"):
        IntegrationDataModule(max_len=64, eval_files={"t": str(tmp_path / "missing.txt")})


def test_validate_with_a_bad_typed_file_is_one_line_and_exit_2(run_main, tmp_path):
    ckpt = untrained_checkpoint(INTEGRATION, tmp_path / "integration.ckpt")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"x\n{PAYLOAD}\n")
    config = tmp_path / "textbook.yaml"
    knobs = {"mode": "bwd", "max_ops": 5, "max_len": 64, "eval_files": {"textbook": str(bad)}}
    config.write_text(json.dumps({"data": {"class_path": "lit_math.data.IntegrationDataModule", "init_args": knobs}}))
    code, err = run_main("validate", "--config", config, "--ckpt_path", ckpt)
    assert code == 2 and f"{bad}:2: cannot read" in err and "Traceback" not in err
    assert not (tmp_path / "pwned").exists()


# --- hangs -----------------------------------------------------------------------------------------------
def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


GOOD = "V2 + 1 24 + 16\t+ 16\nV2 + 5 + 10\t+ 5\n"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param("V1 + " + " ".join(["1"] * 200_000) + "\t+ 1", "is longer than 100,000 bytes", id="200k-tokens"),
        pytest.param("V1 + " + "1 " * MAX_LINE_TOKENS + "\t+ 1", "tokens on one side; at most", id="tokens"),
        pytest.param("x" * (MAX_LINE_BYTES * 30), "is longer than 100,000 bytes", id="3MB-without-line-end"),
    ],
)
def test_huge_lines_are_refused_by_file_and_line_before_any_work(tmp_path, line, reason):
    path = write(tmp_path, "huge.txt", GOOD + line + ("\n" if "\t" in line else ""))
    with pytest.raises(ConfigError, match=f"huge.txt:3: .*{reason}"):
        FileDataModule(types="int[2]:int", eval_files={"valid": path}).setup("fit")  # files are read in setup
    data = FileDataModule(types="int[2]:int", eval_files={"valid": path}, skip_invalid=True, batch_size=2)
    assert len(data.skipped) == 1 and "huge.txt:3" in data.skipped[0]
    assert data.task.source_len == 6  # the model is sized by the lines kept


def test_a_non_utf8_byte_in_a_data_file_names_file_and_line(tmp_path):
    path = write(tmp_path, "latin1.txt", GOOD.encode() + b"V2 + 1 + 2\t+ 1 \xe9\n")
    with pytest.raises(ConfigError, match=r"latin1.txt:3: not UTF-8 \(byte 16 of the line\)"):
        FileDataModule(types="int[2]:int", eval_files={"valid": path}).setup("fit")


def test_full_width_digits_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="is not an integer"):
        GCDTask(max_int=100).parse_problem(["１０", "３２"])  # noqa: RUF001 (that is the point)
    path = write(tmp_path, "ranks.txt", "+ 1\t１\n")  # noqa: RUF001
    with pytest.raises(ConfigError, match=r"ranks.txt:1: .* is not in range"):
        FileDataModule(types="int:range(2)", eval_files={"valid": path}).setup("fit")


def test_error_messages_cut_huge_inputs():
    with pytest.raises(ConfigError) as error:
        GCDTask(max_int=100).parse_problem(["9" * 10_000, "2"])
    assert "(10,002 characters)" in str(error.value) and len(str(error.value)) < 200


def test_beam_and_generated_length_are_bounded(run_main, tmp_path):
    ckpt = untrained_checkpoint(GCDTask(base=10, max_int=1000).config(), tmp_path / "gcd.ckpt")
    code, err = run_main("translate", "--ckpt", ckpt, "--beam", "100000", "10", "32")
    assert code == 2 and "--beam must be an integer 1..100, got 100000" in err
    task = GCDTask(base=10, max_int=1000).config()
    with pytest.raises(ConfigError, match=r"beam_size must be an integer 1\.\.100"):
        Seq2SeqModule(task=task, beam_size=1000)
    with pytest.raises(ConfigError, match=r"eval_max_len must be an integer 1\.\.6, got 50"):
        Seq2SeqModule(task=task, eval_max_len=50)


GENERATING = [  # a BWD batch of 100,000 pairs: about an hour of sympy on one core
    *("fit", "--config", ROOT / "configs/integration/bwd_cpu.yaml", "--data.eval_size", "4"),
    *("--data.batch_size", "100000", "--data.epoch_size", "100000", "--trainer.logger", "false"),
    *("--trainer.num_sanity_val_steps", "0", "--trainer.enable_progress_bar", "false"),
]


@pytest.mark.parametrize(
    ("stop", "workers", "code"),
    [("SIGTERM", "1", 143), pytest.param("SIGINT", "1", 1, marks=pytest.mark.slow)],  # SIGINT: the same path, 8 s
)
def test_a_run_that_is_generating_stops_at_once_on_sigterm_or_ctrl_c(tmp_path, stop, workers, code):
    """Lightning only notes a SIGTERM and stops after the batch; lit-math stops at once. Ctrl-C signals the
    whole process group (dataloader workers too), as a terminal does."""
    run = subprocess.Popen(
        [sys.executable, "-m", "lit_math", *map(str, GENERATING), "--data.num_workers", workers],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    for line in run.stdout:  # the model summary: training, and so generation, starts right after it
        if "Trainable params" in line:
            break
    time.sleep(2)
    if stop == "SIGTERM":
        run.send_signal(signal.SIGTERM)
    else:
        os.killpg(run.pid, signal.SIGINT)
    try:
        rest = run.communicate(timeout=HANG)[0]
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        pytest.fail(f"still running {HANG} s after {stop}")
    assert run.returncode == code, rest[-2000:]
    assert "Traceback" not in rest
    assert ("lit-math: stopped by SIGTERM" if stop == "SIGTERM" else "KeyboardInterrupt") in rest


def busy(seconds):
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        pass


@pytest.fixture
def reported(monkeypatch):
    """The exceptions Python drops and reports as unraisable (pytest would turn each into an error of whatever
    test runs then)."""
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    return dropped


def test_a_time_limit_never_raises_inside_a_finalizer(reported):
    class SlowFinalizer:
        def __del__(self):
            busy(0.3)

    with pytest.raises(TimeLimitExceeded), time_limit(0.1):
        SlowFinalizer()  # collected at once: its __del__ outlives the limit
        gc.collect()
        while True:
            pass
    assert reported == []


def test_a_time_limit_never_raises_inside_a_garbage_collector_callback(reported):
    """Registered after the block started, as hypothesis registers its own."""
    seen = []

    def slow_callback(phase, info):
        seen.append(phase)
        busy(0.2)

    with pytest.raises(TimeLimitExceeded), time_limit(0.1):
        gc.callbacks.append(slow_callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(slow_callback)
        while True:
            pass
    assert seen == ["start", "stop"] and reported == []


def test_a_time_limit_dropped_in_a_weakref_callback_is_not_reported(reported):
    """Python drops an exception raised in a weakref callback; the alarm comes back in the block."""

    class Thing:
        pass

    with pytest.raises(TimeLimitExceeded), time_limit(0.1):
        thing = Thing()
        keep = weakref.ref(thing, lambda reference: busy(0.3))
        del thing  # the callback runs now, past the limit
        while True:
            pass
    assert keep() is None and reported == []


# --- the command line in one line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("words", "line"),
    [
        (["--data.base", "abc"], "--data.base must be an integer, got 'abc'"),
        (["--data.base", "10.5"], "--data.base must be an integer, got '10.5'"),
        (["--data.bsae", "30"], "--data.bsae is not an option of GCDDataModule; did you mean --data.base?"),
        (["--trainr.max_epochs", "3"], "unknown option '--trainr.max_epochs'; did you mean --trainer.max_epochs?"),
        (["--trainer.max_epochs", "abc"], "--trainer.max_epochs must be an integer, got 'abc'"),
        (["--model.d_model", "x"], "--model.d_model must be an integer, got 'x'"),
    ],
)
def test_type_errors_and_misspelt_keys_are_one_line(run_main, words, line):
    code, err = run_main("fit", "--config", TINY, *words)
    lines = err.strip().splitlines()
    assert code == 2 and lines[0] == f"lit-math: error: {line}"
    assert len(lines) == 2 and "--help" in lines[1]


def test_the_symbolic_operator_weights_are_a_mapping(run_main):
    code, err = run_main("fit", "--config", ROOT / "configs/integration/bwd_cpu.yaml", "--data.operators", "foo:1")
    assert code == 2 and err.splitlines()[0] == "lit-math: error: --data.operators must be a mapping, got 'foo:1'"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("data:\n  class_path: lit_math.data.GCDDataModule\n  init_args:\n    bsae: 3\n", "is not an option of"),
        ("trainr:\n  max_epochs: 1\n", "unknown option --trainr.max_epochs; did you mean --trainer.max_epochs?"),
        ("", "is empty: a config is a mapping of sections"),
        ("# only a comment\n", "is empty"),
        ("- a list\n", "holds a list, not a mapping"),
        ("data: [unclosed\n", "config.yaml:2: not YAML"),
        (b"\x00\x01\xfe\xff binary", "config.yaml:1: not UTF-8"),
    ],
)
def test_bad_config_files_are_one_line(run_main, tmp_path, content, line):
    path = tmp_path / "config.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, err = run_main("fit", "--config", TINY, "--config", path)
    assert code == 2 and err.startswith("lit-math: error: ") and line in err.splitlines()[0]
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_generate_refuses_an_existing_file_or_a_folder_of_other_files(run_main, tmp_path):
    (tmp_path / "taken").write_text("mine")
    code, err = run_main("generate", "--config", TINY, "--n", "10", "--out", "taken")
    assert code == 2 and "--out taken is a file" in err and "Traceback" not in err
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    code, err = run_main("generate", "--config", TINY, "--n", "10", "--out", "home")
    assert code == 2 and "holds other files" in err
    assert (tmp_path / "taken").read_text() == "mine" and os.listdir(tmp_path / "home") == ["notes.txt"]


@pytest.fixture(scope="module")
def gcd_ckpt(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    return untrained_checkpoint(GCDTask(base=30, max_int=1000).config(), folder / "gcd.ckpt")


def test_data_overrides_apply_over_the_checkpoints_data(gcd_ckpt, run_main, tmp_path):
    """`--data.*` with a checkpoint and no config: the checkpoint's data, with these knobs changed."""
    spec = {"class_path": "lit_math.data.GCDDataModule", "init_args": {"base": 30, "max_int": 1000}}
    checkpoint = torch.load(gcd_ckpt, weights_only=True)
    checkpoint["GCDDataModule"] = spec  # as a fit's checkpoint records its data
    torch.save(checkpoint, tmp_path / "with_data.ckpt")
    base = ["validate", "--ckpt_path", tmp_path / "with_data.ckpt", "--trainer.logger", "false"]
    code, err = run_main(*base, "--data.per_class", "2", "--data.natural_size", "20")
    assert code == 0, err[-2000:]
    code, err = run_main(*base, "--data.base", "10")
    assert code == 2 and err.strip().splitlines()[-1].startswith("lit-math: error: the checkpoint was trained on")


def test_checkpointing_and_logging_can_be_turned_off(tmp_path):
    result = lit_math(
        "fit", "--config", TINY, *QUICK, "--trainer.enable_checkpointing", "false", "--trainer.logger", "false",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "LearningRateMonitor is left out" in result.stderr
    assert not list(tmp_path.rglob("*.ckpt"))


# --- checkpoints that survive kill -9 --------------------------------------------------------------------
def test_a_checkpoint_killed_while_written_leaves_the_old_one(tmp_path):
    """kill -9 while `last.ckpt` is rewritten, with $TMPDIR on another file system than the checkpoints (tmpfs
    here, node-local scratch on a cluster): Lightning's staged copy would leave a truncated file."""
    staging = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp_path
    tmpdir = staging / f"lit-math-test-{os.getpid()}"
    tmpdir.mkdir(exist_ok=True)
    run = subprocess.Popen(
        [
            *(sys.executable, "-m", "lit_math", "fit", "--config", TINY, "--trainer.logger.init_args.save_dir", "."),
            *("--model.d_model", "512", "--model.n_heads", "8", "--model.n_enc_layers", "2"),  # 60 MB to write
            *("--checkpoint.every_n_train_steps", "1", "--data.batch_size", "8", "--data.epoch_size", "100000"),
            *("--trainer.enable_progress_bar", "false"),
        ],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    folder = tmp_path / "gcd_tiny" / "version_0" / "checkpoints"
    writing = False
    try:
        while run.poll() is None and not writing:  # a last.ckpt, and a new one on its way
            writing = (folder / "last.ckpt").is_file() and any(
                p.name.startswith(".last.ckpt.") for p in folder.iterdir()
            )
            time.sleep(0.001)
        run.kill()
    finally:
        run.wait()
        for leftover in tmpdir.iterdir():
            leftover.unlink()
        tmpdir.rmdir()
    assert writing, "the run ended before a checkpoint was rewritten"
    step = torch.load(folder / "last.ckpt", weights_only=True, map_location="cpu")["global_step"]
    assert step >= 1


def test_a_failed_save_keeps_the_previous_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1}, target)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("disk full, say")

    with pytest.raises(RuntimeError, match="disk full"):
        io.save_checkpoint({"step": 2, "bad": Unpicklable(), "weights": np.zeros(10**6)}, target)
    assert torch.load(target, weights_only=True) == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_the_cli_writes_checkpoints_atomically(tmp_path):
    from lit_math.cli import build_cli

    cli = build_cli(["--config", str(TINY), "--trainer.logger", "false", *QUICK[:6]], run=False)
    assert isinstance(cli.trainer.strategy.checkpoint_io, AtomicCheckpointIO)
