"""Reading generated id matrices back into values, a whole batch at once; rows of ragged id arrays kept flat."""

from __future__ import annotations

import numpy as np

from lit_math.encoding.integers import IntegerCodec
from lit_math.encoding.vocabulary import Vocabulary


def unpack_integers(ids: np.ndarray, offset: int, codec: IntegerCodec) -> tuple[np.ndarray, np.ndarray]:
    """Read one integer per row of generated ids (no BOS), up to the first EOS: (values, valid).

    A row without EOS, or whose tokens before it are not one canonical integer, is invalid.
    """
    values, valid = unpack_integer_rows(ids, offset, codec, 1)
    return values[:, 0], valid


def unpack_integer_rows(ids: np.ndarray, offset: int, codec: IntegerCodec, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Read `count` integers per row of generated ids (no BOS), up to the first EOS: (values (N, count), valid).

    Each integer starts with its sign token, so the signs cut the row; a row with another number of signs
    before EOS, or a piece that is not one canonical integer, is invalid (values 0).
    """
    ids = np.asarray(ids, dtype=np.int64)
    n, width = ids.shape
    if width == 0:  # nothing generated: no EOS, so malformed
        return np.zeros((n, count), dtype=np.int64), np.zeros(n, dtype=bool)
    is_eos = ids == Vocabulary.eos_id
    has_eos = is_eos.any(axis=1)
    length = np.where(has_eos, is_eos.argmax(axis=1), 0)
    local = ids - offset
    local = np.where((local >= 0) & (local < len(codec.tokens)), local, -1)
    cols = np.arange(width)[None, :]
    is_sign = ((local == codec.PLUS) | (local == codec.MINUS)) & (cols < length[:, None])
    valid = has_eos & (is_sign.sum(axis=1) == count) & is_sign[:, 0]
    starts = np.full((n, count + 1), width, dtype=np.int64)  # start of each integer, then the row's end
    rank = np.cumsum(is_sign, axis=1) - 1
    rows, where = np.nonzero(is_sign & (rank < count))
    starts[rows, rank[rows, where]] = where
    starts[:, count] = length
    starts[~valid] = 0
    values = np.zeros((n, count), dtype=np.int64)
    for j in range(count):
        pieces = np.maximum(starts[:, j + 1] - starts[:, j], 0)
        index = np.minimum(starts[:, j : j + 1] + cols, width - 1)
        piece = np.where(cols < pieces[:, None], np.take_along_axis(local, index, axis=1), -1)
        values[:, j], ok = codec.decode_batch(piece, pieces)
        valid &= ok
    return np.where(valid[:, None], values, 0), valid


def take_rows(ids: np.ndarray, offsets: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows `keep` (a mask) of flat `ids` whose row i is `ids[offsets[i]:offsets[i + 1]]`, flat again,
    with their offsets: millions of short rows cost two arrays, not millions of objects."""
    lengths = np.diff(offsets)
    new_offsets = np.zeros(int(np.count_nonzero(keep)) + 1, dtype=np.int64)
    np.cumsum(lengths[keep], out=new_offsets[1:])
    return ids[np.repeat(keep, lengths)], new_offsets
