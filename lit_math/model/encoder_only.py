"""An encoder-only transformer: the answer is read at output positions, all at once, as Int2Int's encoder-only.

After the problem's tokens come one slot per answer token (the answer and its EOS), each a learned position
with no token; the encoder attends over problem and slots together, and slot j's output is the answer's j-th
token. It never sees its own answer, so it suits answers of bounded length (`max_answer_len`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lit_math.model.network import Network, check_answer_len, check_transformer
from lit_math.model.transformer import EncoderLayer, Seq2SeqTransformer
from lit_math.model.translator import ReadsWholeAnswer
from lit_math.tasks import Task


class EncoderOnlyTransformer(ReadsWholeAnswer):
    """Encoder layers over the problem followed by `max_target_len - 1` answer slots."""

    def __init__(
        self,
        vocab_size: int,
        max_source_len: int,
        max_target_len: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        ffn_dim: int | None,
        dropout: float,
    ) -> None:
        super().__init__()
        self.max_target_len = max_target_len
        self.tokens = nn.Embedding(vocab_size, d_model, padding_idx=self.pad_id)
        self.src_positions = nn.Embedding(max_source_len, d_model)
        self.slots = nn.Embedding(max_target_len - 1, d_model)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, n_heads, ffn_dim or 4 * d_model, dropout) for _ in range(n_layers)
        )
        self.norm, self.drop = nn.LayerNorm(d_model), nn.Dropout(dropout)
        self.output = nn.Linear(d_model, vocab_size, bias=False)
        self.output.weight = self.tokens.weight
        self.apply(Seq2SeqTransformer._init)

    def answer_logits(self, source: Tensor) -> Tensor:
        n, length = source.shape
        problem = self.tokens(source) + self.src_positions(torch.arange(length, device=source.device))
        x = self.drop(torch.cat([problem, self.slots.weight.expand(n, -1, -1)], dim=1))
        keep = torch.cat([source != self.pad_id, source.new_ones((n, self.slots.num_embeddings), dtype=torch.bool)], 1)
        for layer in self.layers:
            x = layer(x, keep[:, None, None, :])
        return self.output(self.norm(x[:, length:]))


@dataclass(frozen=True)
class EncoderOnly(Network):
    """An encoder-only transformer that reads the whole answer at output slots (bounded answers only)."""

    d_model: int = 512
    """Width of the transformer."""
    n_layers: int = 4
    """Encoder layers."""
    n_heads: int = 8
    """Attention heads; must divide d_model."""
    ffn_dim: int | None = None
    """Feed-forward width (default 4 * d_model)."""
    dropout: float = 0.0
    """Dropout rate."""
    max_answer_len: int = 128
    """Longest answer (EOS included) it may be asked to read out; a task with longer answers is refused."""

    def __post_init__(self) -> None:
        check_transformer(self.d_model, self.n_layers, self.n_heads, self.ffn_dim, self.dropout)

    def check_task(self, task: Task) -> None:
        check_answer_len(self, self.max_answer_len, task)

    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> EncoderOnlyTransformer:
        knobs = (self.d_model, self.n_layers, self.n_heads, self.ffn_dim, self.dropout)
        return EncoderOnlyTransformer(vocab_size, max_source_len, max_target_len, *knobs)
