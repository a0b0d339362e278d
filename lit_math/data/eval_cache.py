"""Evaluation sets that take minutes of sympy to draw, cached on disk (`$LIT_MATH_CACHE`, default
`~/.cache/lit_math`) under a hash of everything that decides them: the task, the seed, the set and its size."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from lit_math.tasks import Problems


def cache_dir() -> Path:
    return Path(os.environ.get("LIT_MATH_CACHE") or Path.home() / ".cache" / "lit_math")


def cached_problems(identity: dict[str, Any], make: Any) -> Problems:
    """`make()`, computed once per `identity` and kept in the cache directory (written atomically)."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
    path = cache_dir() / "eval_sets" / f"{digest}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}
    problems = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(partial, **problems)
    os.replace(partial, path)
    return problems
