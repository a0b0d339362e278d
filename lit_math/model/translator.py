"""What every network offers the module and the decoders: teacher-forced logits, and step-by-step decoding.

Greedy decoding and beam search (`beam.py`) only ever call `start`, `step` and `reorder`, so they serve every
architecture: an encoder-decoder keeps its key/value cache in the state, a recurrent network its hidden
state, and a network that reads the whole answer at once (encoder-only, MLP) its precomputed logits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn


class Translator(nn.Module, ABC):
    """A network over one vocabulary whose ids 0, 1, 2 are padding, begin and end of sequence."""

    pad_id, bos_id, eos_id = 0, 1, 2
    max_target_len: int
    """Longest target (BOS and EOS included) the network has positions or output slots for."""

    @abstractmethod
    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        """Teacher-forced logits (N, T, vocab) for target inputs (BOS + answer, without the last token)."""

    @abstractmethod
    def start(self, source: Tensor) -> Any:
        """The decoding state after reading `source` (N, S), before the first answer token."""

    @abstractmethod
    def step(self, tokens: Tensor, state: Any, position: int) -> tuple[Tensor, Any]:
        """Logits (N, vocab) of the answer token at `position`, given the previous tokens (N,) (BOS at 0)."""

    @abstractmethod
    def reorder(self, state: Any, rows: Tensor) -> Any:
        """The state of rows `rows` (beam search repeats and reorders its hypotheses with this)."""

    def decode_len(self, max_len: int | None) -> int:
        """Answer tokens to generate at most: `max_len`, bounded by the network's positions."""
        return min(max_len or self.max_target_len - 1, self.max_target_len - 1)

    @torch.no_grad()
    def generate(self, source: Tensor, max_len: int | None = None) -> Tensor:
        """Greedy decoding: ids (N, <= max_len) after BOS, PAD after each row's EOS."""
        n = source.shape[0]
        state = self.start(source)
        token = torch.full((n,), self.bos_id, dtype=torch.long, device=source.device)
        done = torch.zeros(n, dtype=torch.bool, device=source.device)
        out = []
        for position in range(self.decode_len(max_len)):
            logits, state = self.step(token, state, position)
            token = torch.where(done, torch.full_like(token, self.pad_id), logits.argmax(dim=-1))
            out.append(token)
            done |= token == self.eos_id
            if bool(done.all()):
                break
        return torch.stack(out, dim=1) if out else source.new_zeros((n, 0))


def select(state: Any, rows: Tensor, dim: int = 0) -> Any:
    """Rows `rows` of every tensor in a nested state of tuples and lists (None stays None)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.index_select(dim, rows)
    return type(state)(select(part, rows, dim) for part in state)


class ReadsWholeAnswer(Translator):
    """A network that outputs every answer position at once from the problem alone (encoder-only, MLP): it
    never sees its own earlier tokens, so decoding reads precomputed logits one position at a time."""

    @abstractmethod
    def answer_logits(self, source: Tensor) -> Tensor:
        """Logits (N, max_target_len - 1, vocab): the answer's tokens then EOS, one slot each."""

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        return self.answer_logits(source)[:, : target_in.shape[1]]

    def start(self, source: Tensor) -> Tensor:
        return self.answer_logits(source)

    def step(self, tokens: Tensor, state: Tensor, position: int) -> tuple[Tensor, Tensor]:
        return state[:, position], state

    def reorder(self, state: Tensor, rows: Tensor) -> Tensor:
        return state.index_select(0, rows)
