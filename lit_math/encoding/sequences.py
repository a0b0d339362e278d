"""Packing encoded pieces into padded id matrices (and back), one numpy pass per piece, never per example."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lit_math.encoding.integers import IntegerCodec
from lit_math.encoding.vocabulary import Vocabulary


def pack(pieces: Sequence[tuple[np.ndarray, np.ndarray]], offset: int, bos: bool) -> np.ndarray:
    """Concatenate per-row pieces (local indices, lengths) into vocabulary ids, end with EOS, pad with PAD.

    `offset` is the vocabulary id of local index 0; `bos` prepends a begin-of-sequence token (targets).
    """
    n = len(pieces[0][1])
    total = sum(lengths for _, lengths in pieces) + 1 + int(bos)
    out = np.full((n, int(total.max(initial=1))), Vocabulary.pad_id, dtype=np.int64)
    rows = np.arange(n)
    cursor = np.full(n, int(bos), dtype=np.int64)
    if bos:
        out[:, 0] = Vocabulary.bos_id
    for local, lengths in pieces:
        width = local.shape[1]
        inside = np.arange(width)[None, :] < lengths[:, None]
        cols = cursor[:, None] + np.arange(width)[None, :]
        out[np.broadcast_to(rows[:, None], inside.shape)[inside], cols[inside]] = local[inside] + offset
        cursor += lengths
    out[rows, cursor] = Vocabulary.eos_id
    return out


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
