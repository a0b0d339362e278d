"""How a lit-math process behaves, whatever it runs: SIGTERM stops it at once, and it prints only the warnings
a user can act on."""

from __future__ import annotations

import logging
import os
import signal
import warnings

THIRD_PARTY_NOISE = (
    r"'set_vital' is deprecated",  # torchdata's StatefulDataLoader calls a deprecated torch function
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",  # Lightning's pytree helper, on torch 2.13
    r".*(was|is) deprecated in v4\.\d+",  # jsonargparse on LightningCLI's calls
    r".*parameter was deprecated in v4\.\d+",
    # our per-class, rule, throughput and generation figures are summed across ranks before they are logged
    # once (rank_zero_only): Lightning's advice to sync them again does not apply
    r"It is recommended to use `self\.log\('(gcd|gcd_per_class|analysis|data)/|"
    r"It is recommended to use `self\.log\('train/examples_per_s'",
)
"""Warnings no user can act on (they are about the libraries' own calls)."""
EVALUATION_NOISE = (
    r"Be aware that when using `ckpt_path`, callbacks",  # the training callbacks are not needed to evaluate
    r"Couldn't infer the batch indices",  # the prediction writer does not use them
)
"""Warnings that are about training, raised when a checkpoint is only evaluated."""


class _NoLitLoggerTip(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in str(record.msg)


def quiet_third_party() -> None:
    """Only our warnings and those a user can act on: the libraries' deprecation notes about their own calls,
    and Lightning's advertisement for its cloud logger, are left out."""
    for message in THIRD_PARTY_NOISE:
        warnings.filterwarnings("ignore", message=message)
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_NoLitLoggerTip())


class Terminated(BaseException):
    """SIGTERM arrived. Lightning only notes a SIGTERM and stops after the current batch, which for a symbolic
    family being generated can be minutes away; raised at once instead, it stops the run within seconds
    (Lightning still tears down, and stops its DDP children, on the way out)."""


SIGTERM = signal.SIGTERM


def stop_at_once_on_sigterm() -> None:
    """From now on, SIGTERM raises `Terminated` in this process (forked children end quietly instead)."""
    main_pid = os.getpid()
    signal.signal(SIGTERM, lambda signum, frame: _terminate(main_pid))


def _terminate(main_pid: int) -> None:
    signal.signal(SIGTERM, signal.SIG_DFL)  # a second SIGTERM during the teardown ends the process
    if os.getpid() != main_pid:  # a forked dataloader worker, terminated by its parent: end quietly
        os.kill(os.getpid(), SIGTERM)
    raise Terminated
