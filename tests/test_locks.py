"""Locks on a shared file system: a live holder is refused, a dead one taken over, a held lock keeps beating."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from lit_math import locks
from lit_math.errors import ConfigError
from lit_math.locks import FileLock, live_holder


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def lock_file(path, host, pid, age=0.0):
    path.write_text(json.dumps({"host": host, "pid": pid, "since": time.time() - age, "token": "theirs"}))
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_a_live_holder_is_refused_with_who_holds_it(tmp_path):
    path = tmp_path / ".x.lock"
    with FileLock(path, "the thing"):
        with pytest.raises(ConfigError, match=rf"the thing is held by host {socket.gethostname()} pid {os.getpid()} "):
            FileLock(path, "the thing").__enter__()
        assert live_holder(path) is not None
    assert not path.exists() and live_holder(path) is None  # let go of at the end


def test_a_fresh_lock_of_another_host_is_live_and_an_old_one_is_taken_over(tmp_path):
    path = lock_file(tmp_path / ".x.lock", "elsewhere", 1, age=locks.STALE_AFTER_S / 2)
    with pytest.raises(ConfigError, match=r"held by host elsewhere pid 1 .*last heartbeat 60 s ago"):
        FileLock(path, "the thing").__enter__()
    assert json.loads(path.read_text())["token"] == "theirs"  # untouched
    lock_file(path, "elsewhere", 1, age=locks.STALE_AFTER_S + 5)
    with FileLock(path, "the thing"):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists() and not list(tmp_path.iterdir())  # nothing left of either lock


def test_a_lock_of_a_dead_pid_on_this_host_is_taken_over_at_once(tmp_path):
    path = lock_file(tmp_path / ".x.lock", socket.gethostname(), dead_pid())
    assert live_holder(path) is None
    with FileLock(path, "the thing"):
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_a_lock_being_written_by_its_creator_is_live(tmp_path):
    path = tmp_path / ".x.lock"
    path.write_text("")  # created with O_EXCL, its text not written yet
    with pytest.raises(ConfigError, match="held by a job that is taking it now"):
        FileLock(path, "the thing").__enter__()


def test_a_held_lock_beats_and_a_taken_over_one_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "HEARTBEAT_S", 0.02)
    path = tmp_path / ".x.lock"
    with FileLock(path, "the thing"):
        old = time.time() - 100
        os.utime(path, (old, old))
        deadline = time.monotonic() + 60  # a generous bound on a busy machine: only the outcome is asserted
        while path.stat().st_mtime < old + 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert path.stat().st_mtime > old + 50
        lock_file(path, "elsewhere", 1)  # taken over by another job (it thought we were dead)
    assert json.loads(path.read_text())["host"] == "elsewhere"  # neither touched nor removed by us
