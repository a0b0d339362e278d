"""The family-agnostic LightningModule: teacher-forced training, greedy evaluation scored by the task."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MeanMetric

from lit_math.encoding import Vocabulary
from lit_math.errors import ConfigError, check_choice, check_int
from lit_math.model.beam import beam_search
from lit_math.model.network import EncoderDecoder, Network, network_from_config
from lit_math.tasks import Problems, Task, build_task

SCHEDULES: tuple[str, ...] = ("constant", "inverse_sqrt", "cosine")
MAX_BEAM_SIZE = 100
"""Largest beam: the papers use 10 to 50, and memory and time grow with it (a beam of 100,000 never ends)."""


def lr_factor(step: int, warmup_steps: int, schedule: str, total_steps: int) -> float:
    """Multiplier of the base learning rate: linear warm-up, then constant, inverse-sqrt or cosine to zero."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "inverse_sqrt":
        return math.sqrt(max(warmup_steps, 1) / (step + 1))
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def _metric_key(eval_set: str, kind: str) -> str:
    """A ModuleDict key for a set's outcome share (keys may not hold dots, as in acc@0.5pct)."""
    return f"{eval_set}__{kind}".replace(".", "_")


class TaskMismatch(ConfigError):
    """A checkpoint whose network does not fit the data: another vocabulary or other sequence lengths."""


def check_same_network(trained_on: dict[str, Any], data: Task) -> None:
    """The checkpoint of a model trained on task `trained_on` can run on `data` (training laws may differ)."""
    trained = build_task(trained_on)
    shape = (len(trained.vocabulary), trained.max_source_len, trained.max_target_len)
    wanted = (len(data.vocabulary), data.max_source_len, data.max_target_len)
    if trained.vocabulary != data.vocabulary or shape != wanted:
        raise TaskMismatch(
            f"the checkpoint was trained on task {trained_on} ({shape[0]} tokens, sequences of {shape[1]} and "
            f"{shape[2]}), but the data is task {data.config()} ({wanted[0]} tokens, {wanted[1]} and {wanted[2]}): "
            "use the data settings of the checkpoint"
        )


class Seq2SeqModule(L.LightningModule):
    """Translate problems into solutions, for any task.

    Args:
        task: The task's configuration, linked from the data by the CLI (it fixes the vocabulary and the
            sequence lengths, and scores answers).
        d_model: Width of the transformer.
        n_enc_layers: Encoder layers.
        n_dec_layers: Decoder layers.
        n_heads: Attention heads; must divide d_model.
        ffn_dim: Feed-forward width (default 4 * d_model).
        dropout: Dropout rate.
        share_embeddings: Tie the decoder's input embedding and output projection.
        network: Another architecture than the encoder-decoder transformer that the knobs above describe (then
            leave them out), with its own knobs: ``--model.network lit_math.model.LSTMSeq2Seq
            --model.network.hidden 256`` (``--model.network.help LSTMSeq2Seq`` lists them).
        lr: Peak learning rate of Adam (the GCD studies: 5e-5 to 1e-4).
        warmup_steps: Steps of linear warm-up from 0 to lr.
        schedule: After warm-up: ``constant``, ``inverse_sqrt`` or ``cosine`` (to zero at the last step).
        weight_decay: Decoupled weight decay (AdamW); 0 is plain Adam.
        eval_max_len: Longest generated answer at evaluation (default: the task's longest answer).
        beam_size: Hypotheses kept by the beam search at evaluation (1: greedy decoding). With more, validation
            also logs ``acc@<beam_size>``: right when any of the hypotheses is.
        length_penalty: Beam scores are log probabilities over length ** length_penalty.
        beam_early_stopping: Stop a source's search once it has ``beam_size`` finished hypotheses.
        compile: Train with the network's forward compiled by ``torch.compile`` (the first steps pay the
            compilation; evaluation decodes uncompiled). Off by default: ``bench/training.py`` measured no gain on
            CPU, ``bench/gpu.py`` measures it on a GPU.
    """

    def __init__(
        self,
        task: dict[str, Any],
        d_model: int = 512,
        n_enc_layers: int = 4,
        n_dec_layers: int = 4,
        n_heads: int = 8,
        ffn_dim: int | None = None,
        dropout: float = 0.0,
        share_embeddings: bool = True,
        network: Network | None = None,
        lr: float = 1e-4,
        warmup_steps: int = 1000,
        schedule: str = "constant",
        weight_decay: float = 0.0,
        eval_max_len: int | None = None,
        beam_size: int = 1,
        length_penalty: float = 1.0,
        beam_early_stopping: bool = True,
        compile: bool = False,
    ) -> None:
        super().__init__()
        check_choice("schedule", schedule, SCHEDULES)
        if not lr > 0 or not weight_decay >= 0:
            raise ConfigError(f"lr must be > 0 and weight_decay >= 0; got lr={lr}, weight_decay={weight_decay}")
        check_int("warmup_steps", warmup_steps, 0)
        check_int("beam_size", beam_size, 1, MAX_BEAM_SIZE)
        self.save_hyperparameters()
        self.task: Task = build_task(task)
        if eval_max_len is not None:  # the decoder has positions for the task's longest answer, no more
            check_int("eval_max_len", eval_max_len, 1, self.task.max_target_len - 1)
        self.vocabulary: Vocabulary = self.task.vocabulary
        transformer = EncoderDecoder(d_model, n_enc_layers, n_dec_layers, n_heads, ffn_dim, dropout, share_embeddings)
        self.network = transformer if network is None else self._chosen(network, transformer)
        self.network.check_task(self.task)
        self.model = self.network.build(len(self.vocabulary), self.task.max_source_len, self.task.max_target_len)
        self.eval_set_names: list[str] = []
        self.eval_tasks: dict[str, Task] = {}
        self.accuracy = torch.nn.ModuleDict()
        self.accuracy_in_beam = torch.nn.ModuleDict()
        self.outcome_shares = torch.nn.ModuleDict()

    def _chosen(self, network: Network | dict[str, Any], transformer: EncoderDecoder) -> Network:
        """The network asked for, kept in the hyper-parameters as its config; the default transformer's knobs may
        not be set beside it (they would be ignored)."""
        chosen = network_from_config(network)
        changed = [
            f"{name}={value!r}" for name, value in vars(transformer).items() if value != getattr(EncoderDecoder, name)
        ]
        if changed:
            raise ConfigError(
                f"model {', '.join(changed)} sets the default encoder-decoder transformer, but the network is "
                f"{type(chosen).__name__}: set its own knobs instead (--model.network.help {type(chosen).__name__})"
            )
        for name in vars(transformer):  # the hyper-parameters say which network was trained, and nothing else
            self.hparams.pop(name, None)
        self.hparams["network"] = chosen.config()
        return chosen

    # --- training ------------------------------------------------------------------------------------
    def configure_model(self) -> None:
        """Compiled in place (`nn.Module.compile`): parameter names and checkpoints stay the plain network's."""
        if self.hparams.compile:
            self.model.compile()

    def loss(self, batch: dict[str, Any]) -> Tensor:
        target = batch["target"]
        logits = self.model(batch["source"], target[:, :-1])
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), target[:, 1:].reshape(-1), ignore_index=Vocabulary.pad_id
        )

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["source"].shape[0])
        return loss

    def configure_optimizers(self) -> dict[str, Any]:
        """AdamW with warm-up and the chosen schedule. Weight decay as in nanoGPT: matrices (dim >= 2: linear
        weights, embeddings) decay, 1-D parameters (biases, LayerNorm gains and shifts) do not: they are few,
        do not overfit, and pulling a LayerNorm gain towards 0 only fights the normalisation. Without decay one
        group, as before (the LearningRateMonitor's tag stays ``lr-AdamW``; with two: ``lr-AdamW/decay`` and
        ``lr-AdamW/no_decay``, the same curve)."""
        hp = self.hparams
        parameters = list(self.parameters())
        groups = [{"params": parameters, "weight_decay": 0.0}]
        if hp.weight_decay > 0:
            order, decayed = self.decay_order()
            groups = [
                {"name": "decay", "params": [parameters[i] for i in order[:decayed]], "weight_decay": hp.weight_decay},
                {"name": "no_decay", "params": [parameters[i] for i in order[decayed:]], "weight_decay": 0.0},
            ]
        # Fused AdamW (one kernel for all parameters): the optimiser's share of a tiny-model step on one core fell from
        # 4% to about 1% (profiled, issue 18).
        # Lightning refuses gradient clipping with a fused optimizer under mixed precision: there it steps foreach.
        mixed = self._trainer is not None and str(self.trainer.precision).endswith("-mixed")
        optimizer = torch.optim.AdamW(groups, lr=hp.lr, fused=None if mixed else True, foreach=True if mixed else None)
        total = int(self.trainer.estimated_stepping_batches) if hp.schedule == "cosine" else 0
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, hp.warmup_steps, hp.schedule, total)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def decay_order(self) -> tuple[list[int], int]:
        """The indices in `parameters()` of the decayed matrices then of the rest, and how many decay."""
        dims = [p.dim() for p in self.parameters()]
        decayed = [i for i, d in enumerate(dims) if d >= 2]
        return decayed + [i for i, d in enumerate(dims) if d < 2], len(decayed)

    def _regroup_for_decay(self, checkpoint: dict[str, Any]) -> None:
        """A run with weight decay saved before the split kept one group of every parameter: its Adam moments
        and learning rates are regrouped as `configure_optimizers` now groups them, so it resumes."""
        if self.hparams.weight_decay <= 0:
            return
        order, decayed = self.decay_order()
        for state in checkpoint.get("optimizer_states", []):
            if len(state.get("param_groups", [])) != 1 or len(state["param_groups"][0]["params"]) != len(order):
                continue
            (group,) = state["param_groups"]
            state["state"] = {new: state["state"][old] for new, old in enumerate(order) if old in state["state"]}
            state["param_groups"] = [
                {**group, "name": "decay", "params": list(range(decayed))},
                {**group, "name": "no_decay", "params": list(range(decayed, len(order))), "weight_decay": 0.0},
            ]
            for scheduler in checkpoint.get("lr_schedulers", []):
                for key in ("base_lrs", "_last_lr"):
                    if len(scheduler.get(key) or []) == 1:
                        scheduler[key] = scheduler[key] * 2

    # --- evaluation ----------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        datamodule = self.trainer.datamodule if self._trainer is not None else None
        names = list(getattr(datamodule, "eval_set_names", []))
        if datamodule is not None:
            check_same_network(self.task.config(), datamodule.task)
        self.eval_set_names = names
        self.eval_tasks = {name: self.task for name in names} | dict(getattr(datamodule, "eval_tasks", {}))
        self.accuracy = torch.nn.ModuleDict({name: MeanMetric() for name in names})
        self.accuracy_in_beam = torch.nn.ModuleDict({name: MeanMetric() for name in names})
        self.outcome_shares = torch.nn.ModuleDict(
            {_metric_key(name, kind): MeanMetric() for name in names for kind in self.eval_tasks[name].outcome_kinds}
        )

    def decode(self, source: Tensor, beam_size: int) -> np.ndarray:
        """Generated ids (sources x beam_size x length, best first): greedy for a beam of 1."""
        hp = self.hparams
        if beam_size == 1:
            return self.model.generate(source, hp.eval_max_len)[:, None].cpu().numpy()
        beams, _ = beam_search(
            self.model, source, beam_size, hp.eval_max_len, hp.length_penalty, hp.beam_early_stopping
        )
        return beams.cpu().numpy()

    def answer(self, batch: dict[str, Any], task: Task | None = None) -> dict[str, Any]:
        """Answers to a batch, scored by `task` (the evaluation set's; default the model's), in numpy: the
        problems, the best hypothesis (ids), whether it is right, the task's other outcomes (`outcomes`, a mask
        per kind: failure kinds, stricter tolerances), and with a beam every hypothesis (`beams`, best first) and
        whether any is right."""
        hp = self.hparams
        problems = {name: values.cpu().numpy() for name, values in batch["problems"].items()}
        beams = self.decode(batch["source"], hp.beam_size)
        judged = [(task or self.task).judge(problems, beams[:, j]) for j in range(beams.shape[1])]
        correct = np.stack([right for right, _ in judged], axis=1)
        return {
            "problems": problems,
            "hypotheses": beams[:, 0],
            "correct": correct[:, 0],
            "outcomes": judged[0][1],
            "beams": beams,
            "correct_in_beam": correct.any(axis=1),
        }

    def _evaluate(self, batch: dict[str, Any], stage: str, dataloader_idx: int) -> dict[str, Any]:
        """Logs accuracy and loss; returns the answers (with the set's name) for callbacks to read."""
        name = self.eval_set_names[dataloader_idx]
        answers = self.answer(batch, self.eval_tasks.get(name))
        correct = answers["correct"]
        size = batch["source"].shape[0]
        metric = self.accuracy[name]
        metric.update(torch.as_tensor(correct, dtype=torch.float32, device=self.device))
        self.log(
            f"{stage}/{name}/acc",
            metric,
            batch_size=size,
            add_dataloader_idx=False,
            prog_bar=name == self.eval_set_names[0],
        )
        if self.hparams.beam_size > 1:
            in_beam = self.accuracy_in_beam[name]
            in_beam.update(torch.as_tensor(answers["correct_in_beam"], dtype=torch.float32, device=self.device))
            self.log(f"{stage}/{name}/acc@{self.hparams.beam_size}", in_beam, batch_size=size, add_dataloader_idx=False)
        for kind, mask in answers["outcomes"].items():
            share = self.outcome_shares[_metric_key(name, kind)]
            share.update(torch.as_tensor(mask, dtype=torch.float32, device=self.device))
            self.log(f"{stage}/{name}/{kind}", share, batch_size=size, add_dataloader_idx=False)
        self.log(f"{stage}/{name}/loss", self.loss(batch), batch_size=size, add_dataloader_idx=False, sync_dist=True)
        return {"set": name, **answers}

    def validation_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        return self._evaluate(batch, "val", dataloader_idx)

    def test_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        return self._evaluate(batch, "test", dataloader_idx)

    # --- inference -----------------------------------------------------------------------------------
    def translate(self, problems: Problems, beam_size: int = 1) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
        """Source ids, generated ids (problems x beam, best first) and their human reading, for raw problems
        (the `translate` command)."""
        source = torch.from_numpy(self.task.encode(problems)[0]).to(self.device)
        beams = self.decode(source, beam_size)
        readings = [self.task.render(problems, beams[:, j]) for j in range(beam_size)]
        return source.cpu().numpy(), beams, [list(row) for row in zip(*readings, strict=True)]

    def predict_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        names = self.eval_set_names
        return self.answer(batch, self.eval_tasks.get(names[dataloader_idx]) if dataloader_idx < len(names) else None)

    # --- checkpoints ---------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["vocabulary"] = self.vocabulary.to_list()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        check_same_network(checkpoint["hyper_parameters"]["task"], self.task)
        self._regroup_for_decay(checkpoint)
        if Vocabulary.from_list(checkpoint["vocabulary"]) != self.vocabulary:
            raise TaskMismatch(
                f"the checkpoint's vocabulary ({len(checkpoint['vocabulary'])} tokens) is not what task "
                f"{self.task.config()} builds today ({len(self.vocabulary)} tokens): the encoding has changed"
            )
