"""LSTM and GRU encoder-decoders with attention over the encoder states (Luong's "general" attention).

The encoder (optionally bidirectional) reads the problem packed, so padding never enters its states; its last
states, projected, start the decoder. At each answer position the decoder's output attends over the encoder
states, and the two together predict the token. Teacher forcing runs the decoder over the whole answer in one
call; decoding carries the hidden state, one token per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lit_math.errors import ConfigError, check_int
from lit_math.model.network import Network
from lit_math.model.translator import Translator, select

Hidden = Tensor | tuple[Tensor, Tensor]
"""A GRU's hidden state, or an LSTM's (hidden, cell): (layers, N, hidden) each."""

CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentSeq2Seq(Translator):
    def __init__(
        self,
        vocab_size: int,
        max_source_len: int,
        max_target_len: int,
        cell: str,
        hidden: int,
        layers: int,
        bidirectional: bool,
        dropout: float,
    ) -> None:
        super().__init__()
        self.max_target_len, self.layers = max_target_len, layers
        rnn, directions = CELLS[cell], 2 if bidirectional else 1
        between = dropout if layers > 1 else 0.0
        self.src_tokens = nn.Embedding(vocab_size, hidden, padding_idx=self.pad_id)
        self.tgt_tokens = nn.Embedding(vocab_size, hidden, padding_idx=self.pad_id)
        self.encoder = rnn(hidden, hidden, layers, batch_first=True, bidirectional=bidirectional, dropout=between)
        self.decoder = rnn(hidden, hidden, layers, batch_first=True, dropout=between)
        self.memory = nn.Linear(directions * hidden, hidden)  # encoder states -> what the decoder attends to
        self.bridge = nn.Linear(directions * hidden, hidden)  # the encoder's last states -> the decoder's first
        self.attention = nn.Linear(hidden, hidden, bias=False)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.drop = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, vocab_size, bias=False)
        self.output.weight = self.tgt_tokens.weight  # torch's initialisation: the transformers' N(0, 0.02) stalls it

    def _first_state(self, last: Tensor) -> Tensor:
        """(layers * directions, N, H) -> (layers, N, H): both directions of a layer, projected."""
        n, h = last.shape[1], last.shape[2]
        both = last.view(self.layers, -1, n, h).transpose(1, 2).reshape(self.layers, n, -1)
        return torch.tanh(self.bridge(both))

    def start(self, source: Tensor) -> tuple[Tensor, Tensor, Hidden]:
        """Encoder states projected (N, S, H), the problem's mask (N, S), the decoder's first hidden state."""
        keep = source != self.pad_id
        packed = pack_padded_sequence(
            self.drop(self.src_tokens(source)), keep.sum(1).cpu(), batch_first=True, enforce_sorted=False
        )
        states, last = self.encoder(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=source.shape[1])
        first = tuple(map(self._first_state, last)) if isinstance(last, tuple) else self._first_state(last)
        return self.memory(states), keep, first

    def _predict(self, out: Tensor, memory: Tensor, keep: Tensor) -> Tensor:
        """Logits from the decoder's outputs (N, T, H) and their attention over the memory."""
        scores = self.attention(out) @ memory.transpose(1, 2)
        weights = scores.masked_fill(~keep[:, None, :], float("-inf")).softmax(dim=-1)
        combined = torch.tanh(self.combine(torch.cat([out, weights.to(memory.dtype) @ memory], dim=-1)))
        return self.output(self.drop(combined))

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        memory, keep, first = self.start(source)
        out, _ = self.decoder(self.drop(self.tgt_tokens(target_in)), first)
        return self._predict(out, memory, keep)

    def step(self, tokens: Tensor, state: tuple, position: int) -> tuple[Tensor, tuple]:
        memory, keep, hidden = state
        out, hidden = self.decoder(self.tgt_tokens(tokens[:, None]), hidden)
        return self._predict(out, memory, keep)[:, 0], (memory, keep, hidden)

    def reorder(self, state: tuple, rows: Tensor) -> tuple:
        memory, keep, hidden = state
        return select(memory, rows), select(keep, rows), select(hidden, rows, dim=1)


@dataclass(frozen=True)
class _Recurrent(Network):
    """The knobs LSTMSeq2Seq and GRUSeq2Seq share; `cell` tells them apart."""

    cell: ClassVar[str]
    hidden: int = 256
    """Width of the embeddings and of the hidden state."""
    layers: int = 2
    """Stacked recurrent layers, in the encoder and in the decoder."""
    bidirectional: bool = False
    """Read the problem in both directions (the decoder still writes left to right)."""
    dropout: float = 0.0
    """Dropout rate (between stacked layers, and on embeddings and outputs)."""

    def __post_init__(self) -> None:
        check_int("hidden", self.hidden, 1)
        check_int("layers", self.layers, 1)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")

    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> RecurrentSeq2Seq:
        knobs = (self.hidden, self.layers, self.bidirectional, self.dropout)
        return RecurrentSeq2Seq(vocab_size, max_source_len, max_target_len, self.cell, *knobs)


@dataclass(frozen=True)
class LSTMSeq2Seq(_Recurrent):
    """An LSTM encoder-decoder with attention over the encoder states."""

    cell: ClassVar[str] = "lstm"


@dataclass(frozen=True)
class GRUSeq2Seq(_Recurrent):
    """A GRU encoder-decoder with attention over the encoder states."""

    cell: ClassVar[str] = "gru"
