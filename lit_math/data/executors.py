"""Where the units of a job (a corpus's shards) run: processes of this machine, or a Dask cluster.

An executor runs `function(job, item)` for each item and yields each outcome as it arrives, in any order; a
failed item is an outcome too (its error in one line), never the end of the others, so a job that lost some
items to a crash is finished by running it again.

Why Dask distributed rather than Ray: it is pure Python and light (no object store, no separate runtime to
install on the nodes), starts a local cluster in-process, and its clusters are already how HPC users share
nodes (`dask scheduler` + `dask worker tcp://HOST:8786`, or dask-jobqueue under SLURM/PBS). A unit of work here
is coarse (a shard of seconds to minutes), so a scheduler's per-task overhead does not matter.

Dask runs a task in a thread of its worker, but generation sets SIGALRM time limits, which need the main
thread of a process: on Dask each item therefore runs in a new Python process of its own (`CHILD`), which also
confines a crash to that item.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, NamedTuple

from lit_math.errors import ConfigError, shown

CONNECT_TIMEOUT_S = 10.0
"""Default seconds to reach a Dask scheduler before giving up (`--connect-timeout`)."""
CHILD = "from lit_math.data.executors import _child_main; _child_main()"
"""What a Dask task's child process runs (not `python -m`: this module is imported by its package first)."""
MISSING_DASK = '--executor dask needs the cluster extra: pip install -e ".[cluster]"'


class Outcome(NamedTuple):
    """What one item gave: its value, or the error that ended it (one line)."""

    item: int
    value: Any
    error: str | None


def _attempt(function: Callable[[Any, int], Any], job: Any, item: int) -> Outcome:
    try:
        return Outcome(item, function(job, item), None)
    except Exception as error:
        return Outcome(item, None, _one_line(error))


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class LocalExecutor:
    """`workers` processes of this machine (forked, each with the job already in memory), or this process."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, function: Callable[[Any, int], Any], job: Any, items: list[int]) -> Iterator[Outcome]:
        if self.workers == 1 or len(items) <= 1:
            for item in items:
                yield _attempt(function, job, item)
            return
        with multiprocessing.get_context("fork").Pool(self.workers, _remember, (function, job)) as pool:
            yield from pool.imap_unordered(_attempt_remembered, items)


_remembered: tuple[Callable[[Any, int], Any], Any] | None = None


def _remember(function: Callable[[Any, int], Any], job: Any) -> None:
    """A pool process's initialiser: the job is sent once per process, not once per item."""
    global _remembered
    _remembered = (function, job)


def _attempt_remembered(item: int) -> Outcome:
    return _attempt(*_remembered, item)


class DaskExecutor:
    """The workers of a Dask cluster: the scheduler at `address` (tcp://HOST:8786), or, without one, a local
    cluster of `workers` single-threaded processes started here and stopped at the end."""

    def __init__(self, address: str | None, workers: int = 1, connect_timeout: float = CONNECT_TIMEOUT_S) -> None:
        try:
            import distributed  # noqa: F401  (only to fail early, with the extra's name)
        except ImportError:
            raise ConfigError(MISSING_DASK) from None
        if not connect_timeout > 0:
            raise ConfigError(f"--connect-timeout must be a positive number of seconds, got {connect_timeout}")
        self.address, self.workers, self.connect_timeout = address, workers, connect_timeout
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.address is None:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: 8787 may be another cluster's
                silence_logs=logging.ERROR,  # not its notes on workers slow to stop, at the end
            )
            self.client = Client(self.cluster)
            return self
        try:
            self.client = Client(self.address, timeout=self.connect_timeout)
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"--address {shown(self.address)} is not a scheduler's address ({_first_line(error)}): give "
                "tcp://HOST:PORT, as `dask scheduler` prints it"
            ) from None
        except (OSError, TimeoutError) as error:
            raise ConfigError(
                f"--address {self.address}: no Dask scheduler answered within {self.connect_timeout:g} s "
                f"({_first_line(error)}); check the address `dask scheduler` printed, or give a longer "
                "--connect-timeout"
            ) from None
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def run(self, function: Callable[[Any, int], Any], job: Any, items: list[int]) -> Iterator[Outcome]:
        from distributed import as_completed

        if not items:
            return
        shared = self.client.scatter(job, broadcast=True)  # sent once to each worker, not once per item
        futures = self.client.map(_in_child, items, function=function, job=shared, pure=False)
        which = {future.key: item for future, item in zip(futures, items, strict=True)}
        for future in as_completed(futures):
            if future.status == "finished":
                yield future.result()
            else:  # its worker died too often (KilledWorker), or the task could not even start
                yield Outcome(which[future.key], None, _one_line(future.exception()))


def _in_child(item: int, function: Callable[[Any, int], Any], job: Any) -> Outcome:
    """A Dask task: `function(job, item)` in a new Python process, whose main thread may set time limits."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD], input=pickle.dumps((function, job, item)), capture_output=True, check=False
    )
    if child.returncode == 0:
        return pickle.loads(child.stdout)
    code = child.returncode
    ended = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
    lines = child.stderr.decode(errors="replace").strip().splitlines()
    return Outcome(item, None, f"its process {ended}" + (f": {lines[-1]}" if lines else ""))


def _child_main() -> None:
    """Read (function, job, item) on stdin, write its Outcome on stdout; anything else printed goes to stderr."""
    result = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    function, job, item = pickle.loads(sys.stdin.buffer.read())
    outcome = _attempt(function, job, item)
    result.write(pickle.dumps(outcome))
    result.close()


def add_executor_options(parser: argparse.ArgumentParser, processes: str) -> None:
    """`--executor`, `--address`, `--connect-timeout`: where the jobs of a command run (`generate`'s shards,
    `sweep`'s points); `processes` names the command's option for the number of local processes."""
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help=f"local: {processes} processes here (default); dask: the workers of a Dask cluster (the cluster extra)",
    )
    parser.add_argument(
        "--address",
        help=f"with --executor dask: the scheduler, tcp://HOST:8786 (default: a local cluster of {processes} "
        "processes); the output folder must be on a file system the workers share",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=CONNECT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"with --address: seconds to reach the scheduler (default {CONNECT_TIMEOUT_S:g})",
    )


def chosen_executor(args: argparse.Namespace, processes: int) -> LocalExecutor | DaskExecutor:
    """The executor the options of `add_executor_options` ask for; an `--address` without Dask is an error."""
    if args.address is not None and args.executor != "dask":
        raise ConfigError(f"--address {args.address} is a Dask scheduler's: give it with --executor dask")
    if args.executor == "dask":
        return DaskExecutor(args.address, processes, args.connect_timeout)
    return LocalExecutor(processes)
