"""An MLP baseline: the problem padded to its longest length, flattened, mapped to every answer slot at once.

The talk's negative result ("nothing could be made to work with an MLP") needs a network that sees the whole
fixed-length input with no notion of sequence: token embeddings concatenated, hidden layers, and one embedding
vector per answer slot read out through the (tied) embedding matrix.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from lit_math.errors import ConfigError, check_int
from lit_math.model.network import Network, check_answer_len
from lit_math.model.transformer import Seq2SeqTransformer
from lit_math.model.translator import ReadsWholeAnswer
from lit_math.tasks import Task


class MLPNetwork(ReadsWholeAnswer):
    def __init__(
        self,
        vocab_size: int,
        max_source_len: int,
        max_target_len: int,
        embed_dim: int,
        hidden: int,
        layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.max_source_len, self.max_target_len = max_source_len, max_target_len
        self.tokens = nn.Embedding(vocab_size, embed_dim, padding_idx=self.pad_id)
        widths = [max_source_len * embed_dim] + [hidden] * layers
        body: list[nn.Module] = []
        for a, b in itertools.pairwise(widths):
            body += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
        self.body = nn.Sequential(*body, nn.Linear(widths[-1], (max_target_len - 1) * embed_dim))
        self.output = nn.Linear(embed_dim, vocab_size, bias=False)
        self.output.weight = self.tokens.weight
        self.apply(Seq2SeqTransformer._init)

    def answer_logits(self, source: Tensor) -> Tensor:
        fixed = F.pad(source, (0, self.max_source_len - source.shape[1]), value=self.pad_id)
        slots = self.body(self.tokens(fixed).flatten(1)).view(source.shape[0], self.max_target_len - 1, -1)
        return self.output(slots)


@dataclass(frozen=True)
class MLP(Network):
    """A multi-layer perceptron over the fixed-length problem (bounded problems and answers only)."""

    embed_dim: int = 32
    """Width of a token's embedding (input and output)."""
    hidden: int = 1024
    """Width of the hidden layers."""
    layers: int = 2
    """Hidden layers."""
    dropout: float = 0.0
    """Dropout rate."""
    max_answer_len: int = 128
    """Longest answer (EOS included) it may be asked to read out; a task with longer answers is refused."""
    max_problem_len: int = 128
    """Longest problem (EOS included) it may be given: its input is that long; a task with longer is refused."""

    def __post_init__(self) -> None:
        check_int("embed_dim", self.embed_dim, 1)
        check_int("hidden", self.hidden, 1)
        check_int("layers", self.layers, 1)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")

    def check_task(self, task: Task) -> None:
        check_answer_len(self, self.max_answer_len, task)
        if task.max_source_len > self.max_problem_len:
            raise ConfigError(
                f"network MLP takes problems of at most max_problem_len={self.max_problem_len} tokens, but task "
                f"{task.family} has problems of up to {task.max_source_len}: raise max_problem_len, or use a "
                "network that reads sequences"
            )

    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> MLPNetwork:
        knobs = (self.embed_dim, self.hidden, self.layers, self.dropout)
        return MLPNetwork(vocab_size, max_source_len, max_target_len, *knobs)
