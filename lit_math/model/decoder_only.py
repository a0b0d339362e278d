"""A decoder-only transformer: the problem and its answer as one causal sequence, the loss on the answer alone.

Problem tokens and answer tokens have position tables of their own, so an answer token's position does not
depend on how much padding its batch gives the problem; padding is masked out of every attention. Decoding
runs the problem once to fill the key/value cache, then feeds one answer token per step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lit_math.model.network import Network, check_transformer
from lit_math.model.transformer import Attention, FeedForward, Seq2SeqTransformer
from lit_math.model.translator import Translator, select

Cache = list[tuple[Tensor, Tensor]]


class CausalLayer(nn.Module):
    """Pre-norm self-attention (extending a key/value cache) and feed-forward."""

    def __init__(self, d_model: int, n_heads: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads, dropout, cross=False)
        self.ffn = FeedForward(d_model, ffn_dim, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, x: Tensor, mask: Tensor, cache: tuple[Tensor, Tensor] | None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        h, cache = self.attn(self.norm1(x), mask=mask, kv=cache)
        x = x + self.drop(h)
        return x + self.drop(self.ffn(self.norm2(x))), cache


class DecoderOnlyTransformer(Translator):
    """One stack of causal layers over problem + BOS + answer; the output projection is tied to the embedding."""

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
        self.tgt_positions = nn.Embedding(max_target_len, d_model)
        self.layers = nn.ModuleList(
            CausalLayer(d_model, n_heads, ffn_dim or 4 * d_model, dropout) for _ in range(n_layers)
        )
        self.norm, self.drop = nn.LayerNorm(d_model), nn.Dropout(dropout)
        self.output = nn.Linear(d_model, vocab_size, bias=False)
        self.output.weight = self.tokens.weight
        self.apply(Seq2SeqTransformer._init)

    def _embed(self, ids: Tensor, positions: nn.Embedding, start: int = 0) -> Tensor:
        return self.drop(self.tokens(ids) + positions(torch.arange(start, start + ids.shape[1], device=ids.device)))

    def _run(self, x: Tensor, mask: Tensor, cache: Cache | None) -> tuple[Tensor, Cache]:
        new_cache = []
        for i, layer in enumerate(self.layers):
            x, layer_cache = layer(x, mask, None if cache is None else cache[i])
            new_cache.append(layer_cache)
        return x, new_cache

    @staticmethod
    def _causal(keep: Tensor) -> Tensor:
        """(N, 1, L, L): position i sees the non-padding positions up to i (the first, a problem token, always)."""
        length = keep.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=keep.device).tril()
        return causal[None, None] & keep[:, None, None, :]

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        x = torch.cat([self._embed(source, self.src_positions), self._embed(target_in, self.tgt_positions)], dim=1)
        keep = torch.cat([source != self.pad_id, torch.ones_like(target_in, dtype=torch.bool)], dim=1)
        y, _ = self._run(x, self._causal(keep), None)
        return self.output(self.norm(y[:, source.shape[1] :]))

    def start(self, source: Tensor) -> tuple[Cache, Tensor]:
        keep = source != self.pad_id
        return self._run(self._embed(source, self.src_positions), self._causal(keep), None)[1], keep

    def step(self, tokens: Tensor, state: tuple[Cache, Tensor], position: int) -> tuple[Tensor, tuple]:
        cache, keep = state
        keep = torch.cat([keep, torch.ones_like(keep[:, :1])], dim=1)
        y, cache = self._run(self._embed(tokens[:, None], self.tgt_positions, position), keep[:, None, None], cache)
        return self.output(self.norm(y[:, -1])), (cache, keep)

    def reorder(self, state: tuple[Cache, Tensor], rows: Tensor) -> tuple[Cache, Tensor]:
        return select(state, rows)


@dataclass(frozen=True)
class DecoderOnly(Network):
    """A decoder-only (GPT-style) transformer over the problem and its answer as one sequence."""

    d_model: int = 512
    """Width of the transformer."""
    n_layers: int = 4
    """Causal layers."""
    n_heads: int = 8
    """Attention heads; must divide d_model."""
    ffn_dim: int | None = None
    """Feed-forward width (default 4 * d_model)."""
    dropout: float = 0.0
    """Dropout rate."""

    def __post_init__(self) -> None:
        check_transformer(self.d_model, self.n_layers, self.n_heads, self.ffn_dim, self.dropout)

    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> DecoderOnlyTransformer:
        return DecoderOnlyTransformer(vocab_size, max_source_len, max_target_len, **dataclasses.asdict(self))
