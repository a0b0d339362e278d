"""The networks and the LightningModule that trains them."""

from lit_math.model.decoder_only import DecoderOnly
from lit_math.model.encoder_only import EncoderOnly
from lit_math.model.looped import Looped
from lit_math.model.mlp import MLP
from lit_math.model.module import Seq2SeqModule
from lit_math.model.network import NETWORKS, EncoderDecoder, Network
from lit_math.model.recurrent import GRUSeq2Seq, LSTMSeq2Seq
from lit_math.model.transformer import Seq2SeqTransformer

__all__ = [
    "MLP",
    "NETWORKS",
    "DecoderOnly",
    "EncoderDecoder",
    "EncoderOnly",
    "GRUSeq2Seq",
    "LSTMSeq2Seq",
    "Looped",
    "Network",
    "Seq2SeqModule",
    "Seq2SeqTransformer",
]
