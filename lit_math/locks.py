"""Locks on a shared file system, for jobs of any scheduler that know nothing of each other.

A lock is a file created with O_EXCL (atomic on local disks and on NFS v3+), holding who took it (host, pid,
time). While held, a heartbeat thread refreshes its modification time every HEARTBEAT_S seconds, so a holder
that died without removing it (killed, preempted, its node lost) is recognised: its lock is stale once its
heartbeat is older than STALE_AFTER_S seconds, or at once on the same host when its pid is no longer alive. A
stale lock is taken over; a live one makes the next job refuse (or wait, when asked to).

Locks here spare work, they are not what keeps a corpus correct: a shard is published by an atomic rename and
its content depends only on its index, so two jobs that both wrote it (a three-way race on a stale lock, a
clock skew past STALE_AFTER_S) would have written the same file.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType

from lit_math.errors import ConfigError

HEARTBEAT_S = 10.0
"""Seconds between two refreshes of a held lock's modification time."""
STALE_AFTER_S = 120.0
"""A lock whose modification time is older than this is a dead holder's (twelve missed heartbeats, so clocks of
different hosts may disagree by a minute)."""
RETRY_S = 0.05
"""Seconds between two tries of a lock that is waited for."""


def is_lock(name: str) -> bool:
    """Whether a file name is one of this module's locks (or a stale one being taken over)."""
    return name.startswith(".") and name.endswith(".lock")


class FileLock:
    """`with FileLock(path, what):` holds `path` for the block, or raises ConfigError naming the live holder.

    `wait` seconds: how long to wait for a live holder to let go before refusing (0: refuse at once).
    """

    def __init__(self, path: Path, what: str, wait: float = 0.0) -> None:
        self.path, self.what, self.wait = path, what, wait
        self.mine = json.dumps(
            {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time(), "token": uuid.uuid4().hex}
        )
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None

    def __enter__(self) -> FileLock:
        deadline = time.monotonic() + self.wait
        while not self._create():
            holder = _look(self.path)
            if holder is None:  # let go of between our two looks
                continue
            text, age = holder
            if _dead(text, age):
                self._take_over(text)
                continue
            if time.monotonic() >= deadline:
                raise ConfigError(f"{self.what} is held by {_describe(text, age)}")
            time.sleep(RETRY_S)
        self._heart = threading.Thread(target=self._beat, name=f"heartbeat {self.path.name}", daemon=True)
        self._heart.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._heart is not None:
            self._heart.join()
        if self._ours():
            self.path.unlink(missing_ok=True)

    def _create(self) -> bool:
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w") as file:
            file.write(self.mine)
        return True

    def _take_over(self, stale: str) -> None:
        """Remove the stale lock whose text is `stale`, unless another job replaced it meanwhile.

        The lock is first renamed to a name of our own (of the jobs racing for it, one rename wins); what it
        took is checked, and a fresh lock taken by mistake (another job took the stale one over between our
        look and our rename) is put back."""
        taken = self.path.with_name(f"{self.path.name[:-5]}.{uuid.uuid4().hex[:8]}.lock")
        try:
            os.rename(self.path, taken)
        except FileNotFoundError:
            return
        if taken.read_text() == stale:
            taken.unlink()
        else:
            os.rename(taken, self.path)

    def _ours(self) -> bool:
        try:
            return self.path.read_text() == self.mine
        except FileNotFoundError:
            return False

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S) and self._ours():  # a lock taken over is no longer touched
            os.utime(self.path)


def live_holder(path: Path) -> str | None:
    """Who holds the lock `path`, in words, or None when nobody does (no lock, or a stale one)."""
    holder = _look(path)
    return None if holder is None or _dead(*holder) else _describe(*holder)


def _look(path: Path) -> tuple[str, float] | None:
    """The lock's text and the seconds since its last heartbeat, or None when there is no lock now."""
    try:
        text = path.read_text()
        return text, time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def _dead(text: str, age: float) -> bool:
    if age > STALE_AFTER_S:
        return True
    holder = _parse(text)  # an empty text is a lock being written by its creator: alive, as young as it is
    return bool(holder) and holder["host"] == socket.gethostname() and not _alive(holder["pid"])


def _parse(text: str) -> dict | None:
    try:
        holder = json.loads(text)
    except json.JSONDecodeError:
        return None
    return holder if isinstance(holder, dict) and {"host", "pid", "since"} <= holder.keys() else None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _describe(text: str, age: float) -> str:
    holder = _parse(text)
    if holder is None:
        return f"a job that is taking it now (the lock's text is {text[:80]!r})"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["since"]))
    return (
        f"host {holder['host']} pid {holder['pid']} (since {since}, last heartbeat {age:.0f} s ago; a holder is "
        f"taken for dead after {STALE_AFTER_S:.0f} s without one, or at once on its host when its pid has ended)"
    )
