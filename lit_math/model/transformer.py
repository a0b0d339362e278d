"""An encoder-decoder transformer for short token sequences, with incremental decoding.

Pre-norm blocks, learned absolute positions sized to the task's real sequence lengths, and
`scaled_dot_product_attention`. Decoding keeps a key/value cache per decoder layer, and computes the
cross-attention keys and values of the encoder output once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_math.errors import ConfigError, check_int
from lit_math.model.translator import Translator, select


class Attention(nn.Module):
    """Multi-head attention; self-attention when `memory` is None, cross-attention otherwise."""

    def __init__(self, d_model: int, n_heads: int, dropout: float, cross: bool) -> None:
        super().__init__()
        self.n_heads, self.dropout, self.cross = n_heads, dropout, cross
        if cross:
            self.q = nn.Linear(d_model, d_model)
            self.kv = nn.Linear(d_model, 2 * d_model)
        else:
            self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, x: Tensor) -> Tensor:
        n, length, d = x.shape
        return x.view(n, length, self.n_heads, d // self.n_heads).transpose(1, 2)

    def project_memory(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        k, v = self.kv(memory).chunk(2, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        causal: bool = False,
        kv: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Attend from `x`. Self-attention: `kv` is the cache of earlier positions, extended and returned.

        Cross-attention: `kv` is the projected memory (from `project_memory`), returned unchanged.
        """
        if self.cross:
            q = self._heads(self.q(x))
            assert kv is not None, "cross-attention needs the projected memory"
            k, v = kv
        else:
            q, k, v = (self._heads(t) for t in self.qkv(x).chunk(3, dim=-1))
            if kv is not None:
                k, v = torch.cat([kv[0], k], dim=2), torch.cat([kv[1], v], dim=2)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0, is_causal=causal
        )
        n, _, length, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(n, length, -1)), (k, v)


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, ffn_dim: int, dropout: float) -> None:
        super().__init__(nn.Linear(d_model, ffn_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ffn_dim, d_model))


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, n_heads: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads, dropout, cross=False)
        self.ffn = FeedForward(d_model, ffn_dim, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = x + self.drop(self.attn(self.norm1(x), mask=mask)[0])
        return x + self.drop(self.ffn(self.norm2(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, n_heads: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.self_attn = Attention(d_model, n_heads, dropout, cross=False)
        self.cross_attn = Attention(d_model, n_heads, dropout, cross=True)
        self.ffn = FeedForward(d_model, ffn_dim, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, x: Tensor, memory_kv: tuple[Tensor, Tensor], memory_mask: Tensor, cache: tuple[Tensor, Tensor] | None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        # A full sequence (training, or no cache) is causal; one new position with a cache sees all the past.
        h, new_cache = self.self_attn(self.norm1(x), causal=cache is None and x.shape[1] > 1, kv=cache)
        x = x + self.drop(h)
        x = x + self.drop(self.cross_attn(self.norm2(x), mask=memory_mask, kv=memory_kv)[0])
        return x + self.drop(self.ffn(self.norm3(x))), new_cache


class Seq2SeqTransformer(Translator):
    """Encoder-decoder over one vocabulary whose ids 0, 1, 2 are padding, begin and end of sequence."""

    def __init__(
        self,
        vocab_size: int,
        max_source_len: int,
        max_target_len: int,
        d_model: int = 512,
        n_enc_layers: int = 4,
        n_dec_layers: int = 4,
        n_heads: int = 8,
        ffn_dim: int | None = None,
        dropout: float = 0.0,
        share_embeddings: bool = True,
    ) -> None:
        super().__init__()
        check_int("d_model", d_model, 1)
        if n_heads < 1 or d_model % n_heads:
            raise ConfigError(f"n_heads={n_heads} must divide d_model={d_model} (allowed: its divisors)")
        check_int("n_enc_layers", n_enc_layers, 1)
        check_int("n_dec_layers", n_dec_layers, 1)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        ffn_dim = 4 * d_model if ffn_dim is None else check_int("ffn_dim", ffn_dim, 1)
        self.d_model, self.max_target_len = d_model, max_target_len
        self.src_tokens = nn.Embedding(vocab_size, d_model, padding_idx=self.pad_id)
        self.tgt_tokens = nn.Embedding(vocab_size, d_model, padding_idx=self.pad_id)
        self.src_positions = nn.Embedding(max_source_len, d_model)
        self.tgt_positions = nn.Embedding(max_target_len, d_model)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, n_heads, ffn_dim, dropout) for _ in range(n_enc_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, n_heads, ffn_dim, dropout) for _ in range(n_dec_layers))
        self.enc_norm, self.dec_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.output = nn.Linear(d_model, vocab_size, bias=False)
        if share_embeddings:
            self.output.weight = self.tgt_tokens.weight
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def _check_length(self, name: str, length: int, limit: int) -> None:
        if length > limit:
            raise ConfigError(f"{name} sequence of {length} tokens exceeds the model's {limit} positions")

    def encode(self, source: Tensor) -> tuple[Tensor, Tensor]:
        """Encoder output and the attention mask (N, 1, 1, S) that hides source padding."""
        self._check_length("source", source.shape[1], self.src_positions.num_embeddings)
        positions = torch.arange(source.shape[1], device=source.device)
        x = self.drop(self.src_tokens(source) + self.src_positions(positions))
        mask = (source != self.pad_id)[:, None, None, :]
        for layer in self.encoder:
            x = layer(x, mask)
        return self.enc_norm(x), mask

    def memory_kv(self, memory: Tensor) -> list[tuple[Tensor, Tensor]]:
        return [layer.cross_attn.project_memory(memory) for layer in self.decoder]

    def decode(
        self,
        target: Tensor,
        memory_kv: list[tuple[Tensor, Tensor]],
        memory_mask: Tensor,
        cache: list[tuple[Tensor, Tensor]] | None = None,
        start: int = 0,
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
        """Logits for `target` tokens at positions start, start+1, ...; returns the extended cache."""
        self._check_length("target", start + target.shape[1], self.tgt_positions.num_embeddings)
        positions = torch.arange(start, start + target.shape[1], device=target.device)
        x = self.drop(self.tgt_tokens(target) + self.tgt_positions(positions))
        new_cache = []
        for i, layer in enumerate(self.decoder):
            x, layer_cache = layer(x, memory_kv[i], memory_mask, None if cache is None else cache[i])
            new_cache.append(layer_cache)
        return self.output(self.dec_norm(x)), new_cache

    def forward(self, source: Tensor, target_in: Tensor) -> Tensor:
        """Teacher-forced logits (N, T, vocab) for target inputs (BOS + answer, without the last token)."""
        memory, mask = self.encode(source)
        return self.decode(target_in, self.memory_kv(memory), mask)[0]

    def start(self, source: Tensor) -> tuple[list[tuple[Tensor, Tensor]], Tensor, None]:
        """The cross-attention keys and values of the encoded source (computed once), its mask, no cache yet."""
        memory, mask = self.encode(source)
        return self.memory_kv(memory), mask, None

    def step(self, tokens: Tensor, state: tuple, position: int) -> tuple[Tensor, tuple]:
        memory_kv, mask, cache = state
        logits, cache = self.decode(tokens[:, None], memory_kv, mask, cache, start=position)
        return logits[:, -1], (memory_kv, mask, cache)

    def reorder(self, state: tuple, rows: Tensor) -> tuple:
        return select(state, rows)
