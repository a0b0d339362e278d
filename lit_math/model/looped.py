"""Looped transformers: an encoder-decoder whose encoder block (and optionally decoder block) of layers is applied
`loops` times with the same weights, as Int2Int's looped models; a gate may decide, per position and feature,
how much of each pass to keep.

The loops are the layers of `Seq2SeqTransformer` listed again, the same modules: its encoding, decoding, key/
value cache and beam search serve unchanged (each pass has its own cache entry), and the parameters are counted
once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lit_math.errors import check_int
from lit_math.model.network import EncoderDecoder
from lit_math.model.transformer import Seq2SeqTransformer


class Gated(nn.Module):
    """A layer whose output is mixed with its input by a learned gate: x + g * (layer(x) - x)."""

    def __init__(self, layer: nn.Module, d_model: int) -> None:
        super().__init__()
        self.layer, self.gate = layer, nn.Linear(2 * d_model, d_model)

    @property
    def cross_attn(self) -> nn.Module:
        """A decoder layer's cross-attention (`Seq2SeqTransformer.memory_kv` projects the memory with it)."""
        return self.layer.cross_attn

    def forward(self, x: Tensor, *args: Any) -> Any:
        out = self.layer(x, *args)
        y = out[0] if isinstance(out, tuple) else out  # a decoder layer also returns its cache
        g = torch.sigmoid(self.gate(torch.cat([x, y], dim=-1)))
        y = x + g * (y - x)
        return (y, *out[1:]) if isinstance(out, tuple) else y


class LoopedTransformer(Seq2SeqTransformer):
    def __init__(
        self,
        vocab_size: int,
        max_source_len: int,
        max_target_len: int,
        loops: int,
        decoder_loops: int,
        gated: bool,
        **knobs: Any,
    ) -> None:
        super().__init__(vocab_size, max_source_len, max_target_len, **knobs)
        d = self.d_model
        encoder, decoder = list(self.encoder), list(self.decoder)
        if gated:
            encoder, decoder = [Gated(layer, d) for layer in encoder], [Gated(layer, d) for layer in decoder]
            for layer in encoder + decoder:
                self._init(layer.gate)
        self.encoder = nn.ModuleList(encoder * loops)
        self.decoder = nn.ModuleList(decoder * decoder_loops)


@dataclass(frozen=True)
class Looped(EncoderDecoder):
    """An encoder-decoder transformer whose blocks of layers are applied several times with shared weights."""

    n_enc_layers: int = 1
    """Layers of the encoder block that is looped."""
    n_dec_layers: int = 1
    """Layers of the decoder block."""
    loops: int = 4
    """Passes through the encoder block."""
    decoder_loops: int = 1
    """Passes through the decoder block (each costs a pass at every decoding step)."""
    gated: bool = False
    """Gate each layer's update: x + g * (layer(x) - x), g = sigmoid(W [x, layer(x)])."""

    def __post_init__(self) -> None:
        check_int("loops", self.loops, 1)
        check_int("decoder_loops", self.decoder_loops, 1)

    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> LoopedTransformer:
        return LoopedTransformer(vocab_size, max_source_len, max_target_len, **dataclasses.asdict(self))
