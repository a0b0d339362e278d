"""What a lit-math checkpoint holds: its contents, the model and data settings it was trained with, and whether
its network fits a data.

Below the commands (`cli`, `report`, `cross_eval`, `translate` import it), never above them.
"""

from __future__ import annotations

from typing import Any

import torch

from lit_math.data.datamodule import migrated
from lit_math.errors import ConfigError
from lit_math.model.module import TaskMismatch, check_same_network

__all__ = ["TaskMismatch", "check_same_network", "model_settings", "read_checkpoint", "saved_data", "trained_on"]


def read_checkpoint(path: str) -> dict[str, Any]:
    """A lit-math checkpoint's contents, or a ConfigError that says why it is not one."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ConfigError(f"no checkpoint at {path!r}") from None
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise ConfigError(f"{path!r} is not a readable checkpoint: {type(error).__name__}: {first_line}") from None
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if not isinstance(hparams, dict) or "task" not in hparams or "vocabulary" not in checkpoint:
        raise ConfigError(f"{path!r} is not a lit-math checkpoint (no task or vocabulary in it)")
    return checkpoint


def trained_on(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The configuration of the task the checkpoint's model was trained on (it fixes the network's shape)."""
    return checkpoint["hyper_parameters"]["task"]


def model_settings(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The model's init arguments as saved, without the task (linked from the data) and Lightning's notes
    (`_class_path`, `_instantiator`)."""
    saved = checkpoint["hyper_parameters"]
    return {name: value for name, value in saved.items() if name != "task" and not name.startswith("_")}


def saved_data(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    """The data the checkpoint was trained on, as `{"class_path": ..., "init_args": {...}}` (`data_from_spec`
    builds it back), or None when the checkpoint does not record it.

    Read from the DataModule's hyper-parameters, which Lightning saves as `datamodule_hyper_parameters`: a
    lit_math DataModule's `hparams` hold `_class_path` and every init knob. Checkpoints written before that
    carry the spec in the DataModule's own state dict instead, which Lightning saved under the class's name
    (`checkpoint["GCDDataModule"] = {"class_path": "lit_math.data.gcd.GCDDataModule", "init_args": ...}`).
    Knobs renamed since (linear algebra's `size` is `rows`) are renamed: a checkpoint cannot be edited.
    """
    hparams = checkpoint.get("datamodule_hyper_parameters")
    if isinstance(hparams, dict) and isinstance(hparams.get("_class_path"), str):
        knobs = {name: value for name, value in hparams.items() if not name.startswith("_")}
        return migrated({"class_path": hparams["_class_path"], "init_args": knobs})
    for key, state in checkpoint.items():  # the format before: a state dict under the DataModule's class name
        if _old_data_state(key, state):
            return migrated({"class_path": state["class_path"], "init_args": dict(state.get("init_args") or {})})
    return None


def _old_data_state(key: Any, state: Any) -> bool:
    """`state` is what a DataModule's `state_dict()` saved before its hparams held the spec: the key is the
    DataModule's class name, the last part of the class_path it holds."""
    if not (isinstance(key, str) and isinstance(state, dict) and isinstance(state.get("class_path"), str)):
        return False
    return state["class_path"].rpartition(".")[2] == key and isinstance(state.get("init_args", {}), dict)
