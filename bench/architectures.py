"""Each network on 3x3 transpose and 3x3 symmetric eigenvalues, at about the same parameter count: exact-answer
accuracy after a fixed budget of training examples, and training examples/s.

    taskset -c 1 python3 bench/architectures.py [--examples 9600] [--eval-size 200] [--quick]

The data are the CPU configs' (configs/linalg/transpose_cpu.yaml, eigenvalues_cpu.yaml: P1000, batch 64, the
talk's semicircle eigenvalues), one epoch of `--examples` fresh problems; every network gets the same recipe
(Adam at 1e-3 after 50 warm-up steps, gradients clipped at 1), which suits a short budget. Accuracy is exact
answers by greedy decoding on the config's validation set; the validation loss (per answer token) shows
progress that has not yet made answers exact. One torch thread; examples/s counts the training loop only
(batches generated on the fly, the same for every network), and its ratio is to the encoder-decoder's in the
same run. `--quick`: a smoke run of a few minutes.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import lightning as L
import torch

from lit_math.data import data_from_spec
from lit_math.data.config import load_data_config
from lit_math.model import (
    MLP,
    DecoderOnly,
    EncoderDecoder,
    EncoderOnly,
    GRUSeq2Seq,
    Looped,
    LSTMSeq2Seq,
    Network,
    Seq2SeqModule,
)
from lit_math.process import quiet_third_party

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "linalg"
NETWORKS: dict[str, list[Network]] = {  # sized to the config's encoder-decoder (the first of each list)
    "transpose": [
        EncoderDecoder(d_model=128, n_enc_layers=1, n_dec_layers=1, n_heads=8),
        DecoderOnly(d_model=128, n_layers=3, n_heads=8),
        EncoderOnly(d_model=128, n_layers=3, n_heads=8),
        Looped(d_model=128, n_enc_layers=1, n_dec_layers=1, n_heads=8, loops=3),
        LSTMSeq2Seq(hidden=128, layers=1, bidirectional=True),
        GRUSeq2Seq(hidden=128, layers=2),
        MLP(embed_dim=32, hidden=320, layers=2),
    ],
    "eigenvalues": [
        EncoderDecoder(d_model=128, n_enc_layers=2, n_dec_layers=1, n_heads=8),
        DecoderOnly(d_model=128, n_layers=4, n_heads=8),
        EncoderOnly(d_model=128, n_layers=4, n_heads=8),
        Looped(d_model=128, n_enc_layers=2, n_dec_layers=1, n_heads=8, loops=2),
        LSTMSeq2Seq(hidden=128, layers=2),
        GRUSeq2Seq(hidden=144, layers=2),
        MLP(embed_dim=32, hidden=512, layers=2),
    ],
}


class TrainingClock(L.Callback):
    """Seconds spent in the training loop, first batch to last."""

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.seconds = time.perf_counter() - self.start


def run(task: str, network: Network, examples: int, eval_size: int, seed: int) -> dict[str, float]:
    L.seed_everything(seed, verbose=False)
    spec = load_data_config(CONFIGS / f"{task}_cpu.yaml")
    data = data_from_spec({**spec, "init_args": {**spec["init_args"], "epoch_size": examples, "eval_size": eval_size}})
    module = Seq2SeqModule(task=data.task_config, network=network, lr=1e-3, warmup_steps=50)
    clock = TrainingClock()
    options = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_model_summary=False)
    trainer = L.Trainer(
        **options, max_epochs=1, limit_val_batches=0, num_sanity_val_steps=0, gradient_clip_val=1.0,
        enable_progress_bar=False, callbacks=[clock],
    )  # fmt: skip
    trainer.fit(module, data)
    (results,) = L.Trainer(**options, enable_progress_bar=False).validate(module, data, verbose=False)
    return {
        "params": sum(p.numel() for p in module.parameters()),
        "acc": results["val/valid/acc"],
        "loss": results["val/valid/loss"],
        "examples_per_s": examples / clock.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=9_600, help="training examples per network (one epoch)")
    parser.add_argument("--eval-size", type=int, default=200, help="validation problems")
    parser.add_argument("--tasks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,048 examples and 64 problems: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.examples, args.eval_size = 2048, 64
    torch.set_num_threads(1)
    quiet_third_party()
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # "GPU available: False", once per Trainer
    print(f"{args.examples:,} training examples per network, {args.eval_size} validation problems, one thread\n")
    print("| task | network | parameters | accuracy | validation loss | examples/s | vs encoder-decoder |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for task in args.tasks:
        baseline = None
        for network in NETWORKS[task]:
            r = run(task, network, args.examples, args.eval_size, args.seed)
            baseline = baseline or r["examples_per_s"]
            knobs = ", ".join(f"{k}={v}" for k, v in vars(network).items() if v != getattr(type(network)(), k))
            print(
                f"| {task} | {type(network).__name__} ({knobs}) | {r['params']:,} | {100 * r['acc']:.1f}% "
                f"| {r['loss']:.3f} | {r['examples_per_s']:,.0f} | {r['examples_per_s'] / baseline:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
