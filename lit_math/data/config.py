"""The `data` section of a `lit-math fit` config, for the commands that build data without a Trainer."""

from __future__ import annotations

from pathlib import Path

import yaml

from lit_math.errors import ConfigError


def load_data_config(path: Path) -> dict:
    """The `data` section of a `lit-math fit` config."""
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read data config {path}: {error}") from None
    data = config.get("data") if isinstance(config, dict) else None
    if not isinstance(data, dict) or "class_path" not in data:
        raise ConfigError(f"{path} has no data section with a class_path (a `lit-math fit` config)")
    return data
