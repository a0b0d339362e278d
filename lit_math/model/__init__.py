"""The network and the LightningModule that trains it."""

from lit_math.model.module import Seq2SeqModule
from lit_math.model.transformer import Seq2SeqTransformer

__all__ = ["Seq2SeqModule", "Seq2SeqTransformer"]
