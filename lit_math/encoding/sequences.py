"""Reading generated id matrices back into values, a whole batch at once."""

from __future__ import annotations

import numpy as np

from lit_math.encoding.integers import IntegerCodec
from lit_math.encoding.vocabulary import Vocabulary


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
