"""Encoded rows to padded id matrices and back, with a fixed number of numpy operations per batch."""

from __future__ import annotations

import numpy as np

from lit_math.encoding.integers import IntegerCodec
from lit_math.encoding.vocabulary import Vocabulary


def pack(local: np.ndarray, lengths: np.ndarray, offset: int, bos: bool) -> np.ndarray:
    """Local token indices (right-padded with -1) to vocabulary ids: shift by `offset`, end with EOS,
    pad with PAD, and with `bos` (targets) begin with BOS."""
    n, width = local.shape
    cols = np.arange(width + 1)[None, :]
    body = np.empty((n, width + 1), dtype=np.int64)
    body[:, :width] = local + offset
    ids = np.where(
        cols < lengths[:, None], body, np.where(cols == lengths[:, None], Vocabulary.eos_id, Vocabulary.pad_id)
    )
    if bos:
        ids = np.concatenate([np.full((n, 1), Vocabulary.bos_id, dtype=np.int64), ids], axis=1)
    return ids


def unpack_integers(ids: np.ndarray, offset: int, codec: IntegerCodec) -> tuple[np.ndarray, np.ndarray]:
    """Read one integer per row of generated ids (no BOS), up to the first EOS: (values, valid).

    A row without EOS, or whose tokens before it are not one canonical integer, is invalid.
    """
    ids = np.asarray(ids, dtype=np.int64)
    is_eos = ids == Vocabulary.eos_id
    has_eos = is_eos.any(axis=1)
    lengths = np.where(has_eos, is_eos.argmax(axis=1), 0)
    local = ids - offset
    local = np.where((local >= 0) & (local < len(codec.tokens)), local, -1)
    values, valid = codec.decode_batch(local, lengths)
    return values, valid & has_eos
