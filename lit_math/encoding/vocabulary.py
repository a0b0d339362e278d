"""Token <-> id maps, built from a task's configuration alone and saved inside checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")


class Vocabulary:
    """An ordered list of tokens; ids 0, 1, 2 are always padding, begin and end of sequence.

    Fixing the special ids lets the model and the data agree without passing them around.
    """

    pad_id = 0
    bos_id = 1
    eos_id = 2

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens: list[str] = [*SPECIAL_TOKENS, *tokens]
        self._ids = {token: i for i, token in enumerate(self.tokens)}
        if len(self._ids) != len(self.tokens):
            seen: set[str] = set()
            dups = sorted({t for t in self.tokens if t in seen or seen.add(t)})
            raise ValueError(f"vocabulary tokens must be unique, repeated: {dups[:10]}")

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self) -> str:
        head = " ".join(self.tokens[:8])
        return f"Vocabulary({len(self)} tokens: {head}{' ...' if len(self) > 8 else ''})"

    def id(self, token: str) -> int:
        try:
            return self._ids[token]
        except KeyError:
            raise KeyError(f"token {token!r} is not in the vocabulary ({self!r})") from None

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.id(t) for t in tokens]

    def words(self, ids: Iterable[int]) -> list[str]:
        """Tokens of `ids` up to end-of-sequence, without a leading begin-of-sequence.

        Anything else is shown, special tokens included, so a malformed answer reads as what it is.
        """
        ids = np.asarray(list(ids), dtype=np.int64).tolist()
        if ids[:1] == [self.bos_id]:
            ids = ids[1:]
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        return [self.tokens[i] if 0 <= i < len(self.tokens) else f"<unk:{i}>" for i in ids]

    def to_list(self) -> list[str]:
        """The non-special tokens, which is all a checkpoint needs to rebuild the vocabulary."""
        return self.tokens[len(SPECIAL_TOKENS) :]

    @classmethod
    def from_list(cls, tokens: Sequence[str]) -> Vocabulary:
        return cls(tokens)
