"""Checkpoints written atomically wherever $TMPDIR is: a killed run leaves the old `last.ckpt` or the new one.

Lightning writes a local checkpoint through an fsspec transaction, which stages the file in $TMPDIR and then
moves it into place. When $TMPDIR is on another file system (node-local scratch or tmpfs on a cluster, a
network checkpoint folder) that move is a copy into `last.ckpt`, and a `kill -9` during the copy leaves a
truncated checkpoint that no longer loads (shown by tests/test_bad_input.py). Here the file is staged next to
its destination and renamed, which POSIX makes atomic on one file system.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    """TorchCheckpointIO whose local saves go to a temporary file in the checkpoint's folder, then `os.replace`."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None) -> None:
        if "://" in str(path):  # object stores have their own semantics: Lightning's way
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, staged = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as stream:
                torch.save(checkpoint, stream)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(staged, target)
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise
