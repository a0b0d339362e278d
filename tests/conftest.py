"""The suite must leave the working tree as it found it (no config.yaml or run folder written by a test), and
keeps its evaluation-set cache to itself."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# One torch thread in the test process and in the processes tests start (set before torch is imported): the
# suite's models are tiny, and on a shared 2-core machine two threads spin-wait on each other (a test that ran
# 15 minutes at load 8 ran in under a minute with one thread). A value the user sets is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _untracked() -> set[str] | None:
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True
    )
    return set(result.stdout.splitlines()) if result.returncode == 0 else None


@pytest.fixture(scope="session", autouse=True)
def working_tree_stays_clean():
    before = _untracked()
    yield
    after = _untracked()
    if before is not None and after is not None:
        assert after <= before, f"tests wrote into the repository: {sorted(after - before)}"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Evaluation sets cached by the tests (and the commands they run) go to a folder of their own."""
    previous = os.environ.get("LIT_MATH_CACHE")
    os.environ["LIT_MATH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("LIT_MATH_CACHE")
    else:
        os.environ["LIT_MATH_CACHE"] = previous


@pytest.fixture
def run_main(capsys, monkeypatch, tmp_path):
    """`lit-math WORDS` in this process, in `tmp_path` (fast: no new interpreter): (exit code, stderr);
    stdout is then `run_main.out`."""
    from lit_math.cli import main

    monkeypatch.chdir(tmp_path)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)

    def run(*words):
        try:
            main([str(w) for w in words])
            code = 0
        except SystemExit as stop:
            code = 0 if stop.code is None else stop.code
        finally:
            signal.signal(signal.SIGTERM, previous[0])  # main() sets both handlers: pytest's come back
            signal.signal(signal.SIGINT, previous[1])
        captured = capsys.readouterr()
        run.out = captured.out  # what it printed, for the tests that read it
        return code, captured.err

    return run
