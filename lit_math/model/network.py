"""Which network the module trains: a `Network` is that network's knobs, the torch module is built from them.

A network's knobs cannot make the torch module alone: its vocabulary and lengths come from the task, which the
CLI links to the module. So each architecture declares a small frozen dataclass (a subclass of `Network`,
whose fields with a one-line docstring under each are the `--model.network.*` options) with a `build` method;
LightningCLI chooses it by `class_path` (`--model.network lit_math.model.LSTMSeq2Seq`), and checkpoints keep
it as `{"class_path", "init_args"}`, which `network_from_config` reads back.
"""

from __future__ import annotations

import dataclasses
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from lit_math.errors import ConfigError, check_int
from lit_math.knobs import args_section, inherited_docs
from lit_math.model.transformer import Seq2SeqTransformer
from lit_math.model.translator import Translator
from lit_math.tasks import Task

NETWORKS: dict[str, type[Network]] = {}
"""Every architecture's knobs class by its name: each registers itself when its module is imported."""


class Network(ABC):
    """The knobs of one architecture; `build` makes the network for a task's vocabulary and lengths."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        docs = inherited_docs(cls)
        cls.__doc__ = f"{(cls.__doc__ or '').strip()}\n\n{args_section(docs, list(docs))}"
        if not inspect.isabstract(cls) and not cls.__name__.startswith("_"):  # _Recurrent: knobs shared by two
            NETWORKS[cls.__name__] = cls

    @abstractmethod
    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> Translator:
        """The torch module, for this many tokens and the task's longest problem and answer (EOS included)."""

    def check_task(self, task: Task) -> None:  # noqa: B027 (most networks serve every task)
        """A ConfigError when this network cannot serve `task` (an answer longer than it can read out)."""

    def config(self) -> dict[str, Any]:
        """The knobs as LightningCLI writes a class: what checkpoints keep."""
        cls = type(self)
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": dataclasses.asdict(self)}


def network_from_config(config: Network | dict[str, Any]) -> Network:
    """A `Network` from its `config()` (a checkpoint's hyper-parameters), or the one given."""
    if isinstance(config, Network):
        return config
    class_path = config.get("class_path") if isinstance(config, dict) else None
    cls = NETWORKS.get(str(class_path).rpartition(".")[2])
    if cls is None:
        raise ConfigError(f"network {class_path!r} is not one of {', '.join(sorted(NETWORKS))}")
    try:
        return cls(**(config.get("init_args") or {}))
    except TypeError as error:
        raise ConfigError(f"network {class_path}: {error}") from None


def check_answer_len(network: Network, max_answer_len: int, task: Task) -> None:
    """Refuse a task whose answers (EOS included) are longer than the output slots of a network that reads the
    whole answer at once."""
    longest = task.max_target_len - 1
    if longest > max_answer_len:
        raise ConfigError(
            f"network {type(network).__name__} reads answers of at most max_answer_len={max_answer_len} tokens, "
            f"but task {task.family} has answers of up to {longest} (EOS included): raise max_answer_len to "
            f"{longest} or more, or use a network that generates (EncoderDecoder, DecoderOnly, Looped, "
            "LSTMSeq2Seq, GRUSeq2Seq)"
        )


def check_transformer(d_model: int, n_layers: int, n_heads: int, ffn_dim: int | None, dropout: float) -> None:
    """The checks `Seq2SeqTransformer` makes of its knobs, for the other transformers (n_layers: any stack)."""
    check_int("d_model", d_model, 1)
    check_int("n_layers", n_layers, 1)
    if n_heads < 1 or d_model % n_heads:
        raise ConfigError(f"n_heads={n_heads} must divide d_model={d_model} (allowed: its divisors)")
    if ffn_dim is not None:
        check_int("ffn_dim", ffn_dim, 1)
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {dropout}")


@dataclass(frozen=True)
class EncoderDecoder(Network):
    """The encoder-decoder transformer (the default, and the architecture of the papers)."""

    d_model: int = 512
    """Width of the transformer."""
    n_enc_layers: int = 4
    """Encoder layers."""
    n_dec_layers: int = 4
    """Decoder layers."""
    n_heads: int = 8
    """Attention heads; must divide d_model."""
    ffn_dim: int | None = None
    """Feed-forward width (default 4 * d_model)."""
    dropout: float = 0.0
    """Dropout rate."""
    share_embeddings: bool = True
    """Tie the decoder's input embedding and output projection."""

    def build(self, vocab_size: int, max_source_len: int, max_target_len: int) -> Seq2SeqTransformer:
        return Seq2SeqTransformer(vocab_size, max_source_len, max_target_len, **dataclasses.asdict(self))
