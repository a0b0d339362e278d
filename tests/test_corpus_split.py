"""Generation beyond one machine: a corpus split in parts over jobs of any scheduler, or spread over a Dask cluster;
either way the same shards as one job writes, a part never written by two jobs at once, a failed shard rewritten
by a rerun."""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

import distributed
import pytest

from lit_math.data import IntegrationDataModule
from lit_math.data.corpus import Part, generate
from lit_math.data.executors import MISSING_DASK, DaskExecutor
from lit_math.locks import is_lock
from lit_math.shards import read_manifest, shard_path

from .helpers import tiny_data

SHARD = 30
GCD = dict(base=10, max_int=1000, per_class=4, classes=20, natural_size=200, seed=3)


def texts(directory):
    return {path.name: path.read_text() for path in sorted(directory.glob("shard-*.txt"))}


def config(tmp_path):
    path = tmp_path / "gcd.yaml"
    path.write_text(json.dumps({"data": {"class_path": "lit_math.data.GCDDataModule", "init_args": GCD}}))
    return path


def command(tmp_path, n, *options):
    return ["generate", "--config", config(tmp_path), "--n", n, "--shard-size", SHARD, "--out", "c", *options]


def holder(pid, host=None):
    return json.dumps({"host": host or socket.gethostname(), "pid": pid, "since": time.time(), "token": "theirs"})


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """7 shards written by one job on one process: what every split must write."""
    out = tmp_path_factory.mktemp("whole") / "gcd"
    generate(tiny_data(**GCD), 7 * SHARD, out, shard_size=SHARD, progress=False)
    return out


def test_the_parts_of_a_split_write_disjoint_shards_that_make_the_whole_corpus(whole, tmp_path):
    out = tmp_path / "split"
    generate(tiny_data(**GCD), 7 * SHARD, out, shard_size=SHARD, progress=False, part=Part(1, 3))
    assert sorted(texts(out)) == ["shard-00001.txt", "shard-00004.txt"]  # the shards k with k % 3 == 1
    for index in (2, 0):
        generate(tiny_data(**GCD), 7 * SHARD, out, shard_size=SHARD, progress=False, part=Part(index, 3))
    assert texts(out) == texts(whole) and read_manifest(out) == read_manifest(whole)
    assert not [path for path in out.iterdir() if is_lock(path.name)]  # every lock let go of


def test_parts_started_together_in_a_new_folder_agree_on_the_manifest(whole, tmp_path):
    out = tmp_path / "together"
    data = [tiny_data(**GCD) for _ in range(3)]
    start, errors = threading.Barrier(3), []

    def job(index):
        start.wait()
        try:
            generate(data[index], 7 * SHARD, out, shard_size=SHARD, progress=False, part=Part(index, 3))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=job, args=(index,)) for index in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and texts(out) == texts(whole) and read_manifest(out) == read_manifest(whole)


@pytest.mark.parametrize(
    "part", ["3/2", "0/0", "a/b", "-1/4", "1", "1/2/3", "1 /2", "\u0661/\u0662"]
)  # the last: Arabic-Indic digits
def test_a_malformed_part_is_one_line_and_writes_nothing(run_main, tmp_path, part):
    code, err = run_main(*command(tmp_path, 60, f"--part={part}"))
    line = err.strip().splitlines()[-1]
    assert code == 2 and f"argument --part: {part!r} is not I/N with 0 <= I < N: parts are numbered from 0" in line
    assert not (tmp_path / "c").exists()


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_part_held_by_a_live_job_is_refused_and_a_dead_holder_is_taken_over(run_main, tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    lock = out / ".part-1-of-2.lock"
    lock.write_text(holder(os.getpid()))  # a live job on this host: this very process
    code, err = run_main(*command(tmp_path, 4 * SHARD, "--part", "1/2"))
    assert code == 2 and f"part 1/2 of the corpus c is held by host {socket.gethostname()} pid {os.getpid()}" in err
    assert os.listdir(out) == [lock.name] and json.loads(lock.read_text())["token"] == "theirs"  # nothing written

    lock.write_text(holder(dead_pid()))  # the holder died without letting go
    code, err = run_main(*command(tmp_path, 4 * SHARD, "--part", "1/2"))
    assert code == 0, err
    assert sorted(os.listdir(out)) == [
        "manifest.json",
        *(f"shard-0000{k}.{e}" for k in (1, 3) for e in ("json", "txt")),
    ]
    assert "c part 1/2: shards 2/2 | " in err and "| done" in err  # the progress line, in a log: plain lines


def test_a_corpus_is_written_by_one_split_at_a_time(run_main, tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / ".part-2-of-3.lock").write_text(holder(os.getpid()))
    for part in (["--part", "0/2"], []):  # a plain run is the split in one part
        code, err = run_main(*command(tmp_path, 4 * SHARD, *part))
        assert code == 2 and "part 2/3 of the corpus c is being written by host" in err
        assert "give every job of one corpus the same N in --part I/N" in err
        assert os.listdir(out) == [".part-2-of-3.lock"]


def test_a_job_stopped_by_sigterm_lets_go_of_its_part(tmp_path):
    """What a scheduler does to a job at its time limit or on `scancel`: the next job need not wait for the
    lock to go stale."""
    job = subprocess.Popen(
        [sys.executable, "-m", "lit_math.cli", *map(str, command(tmp_path, 10**7, "--part", "0/2"))],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600  # a bound for a very busy machine: only the outcome is asserted
        while not (tmp_path / "c" / "shard-00000.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "c" / ".part-0-of-2.lock").exists()
        job.terminate()
        assert job.wait(timeout=600) == 143
    finally:
        job.kill()
    assert "stopped by SIGTERM; run the same command again to finish" in job.stderr.read()
    assert not [path.name for path in (tmp_path / "c").iterdir() if path.name.startswith(".")]


# --- Dask ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scheduler():
    """A local cluster of two single-threaded worker processes, as `dask scheduler` + 2 `dask worker`s."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow  # a two-worker Dask cluster: 20-30 s; the local-cluster test stays in the fast suite
def test_dask_writes_the_same_shards_and_a_rerun_writes_those_that_failed(scheduler, whole, run_main, tmp_path):
    assert run_main(*command(tmp_path, SHARD))[0] == 0  # shard 0, here
    (tmp_path / "c" / "shard-00001.json").mkdir()  # shard 1 cannot be written: its statistics' name is a folder
    dask = ["--executor", "dask", "--address", scheduler]
    code, err = run_main(*command(tmp_path, 3 * SHARD, *dask))
    assert code == 1 and "1 of the 2 shards of this run failed (first: c/shard-00001.txt: IsADirectoryError" in err
    assert sorted(texts(tmp_path / "c")) == ["shard-00000.txt", "shard-00002.txt"]  # the other one is written
    (tmp_path / "c" / "shard-00001.json").rmdir()
    code, err = run_main(*command(tmp_path, 3 * SHARD, *dask))
    assert code == 0, err
    assert texts(tmp_path / "c") == {name: text for name, text in texts(whole).items() if name < "shard-00003"}
    assert [path.name for path in (tmp_path / "c").iterdir() if path.name.startswith(".")] == []  # no partial file


def test_dask_writes_symbolic_shards_whose_time_limits_need_a_main_thread(scheduler, tmp_path):
    """In a Dask worker's thread, every sympy time limit would fail (SIGALRM needs a main thread): a child does it."""
    data = IntegrationDataModule(mode="bwd", max_ops=3, max_len=48, eval_size=16, batch_size=10, seed=2)
    summary = generate(data, 5, tmp_path / "bwd", shard_size=5, progress=False, executor=DaskExecutor(scheduler))
    assert summary["examples"] == 5 and summary["error"] < 100
    assert len(shard_path(tmp_path / "bwd", 0).read_text().splitlines()) == 5


@pytest.mark.slow  # a local Dask cluster: 10 s (Dask executors: the `cluster` extra, tested with -m slow)
def test_dask_without_an_address_starts_a_local_cluster_and_splits_in_parts(whole, run_main, tmp_path):
    code, err = run_main(*command(tmp_path, 3 * SHARD, "--executor", "dask", "--workers", "1", "--part", "1/2"))
    assert code == 0, err
    assert texts(tmp_path / "c") == {"shard-00001.txt": texts(whole)["shard-00001.txt"]}
    summary = json.loads(run_main.out.splitlines()[-1])
    assert summary["shards"] == 1 and summary["of"] == 3 and summary["examples"] == SHARD


def test_dask_bad_setups_are_one_line_and_write_nothing(run_main, tmp_path, monkeypatch):
    cases = [
        (["--executor", "dask", "--address", "tcp://127.0.0.1:1", "--connect-timeout", "1"], "no Dask scheduler"),
        (["--executor", "dask", "--address", "nowhere"], "--address 'nowhere' is not a scheduler's address"),
        (["--executor", "dask", "--connect-timeout", "0"], "--connect-timeout must be a positive number"),
        (["--address", "tcp://127.0.0.1:8786"], "give it with --executor dask"),
    ]
    for options, line in cases:
        code, err = run_main(*command(tmp_path, SHARD, *options))
        assert code == 2 and line in err.strip().splitlines()[-1], err
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the cluster extra were not installed
    code, err = run_main(*command(tmp_path, SHARD, "--executor", "dask"))
    assert code == 2 and err.strip().splitlines()[-1] == f"lit-math generate: error: {MISSING_DASK}"
    assert not (tmp_path / "c").exists()
