"""The corpus file format, shared by the writer (`lit-math generate`), training and IBP's known integrals.

A corpus is a folder of `shard-NNNNN.txt` files, one example per line (problem tokens TAB solution tokens,
Int2Int's format), a `manifest.json` saying what wrote it and how many shards it has, and per shard its
statistics. Only files and text here: it sits below both tasks and data, which both read corpora.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lit_math.errors import ConfigError

MANIFEST = "manifest.json"
FORMAT = "lit-math corpus 1: shard-NNNNN.txt, one example per line, problem tokens TAB solution tokens"


def shard_path(directory: Path, index: int) -> Path:
    return directory / f"shard-{index:05d}.txt"


def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def write_atomically(path: Path, text: str) -> None:
    """Write `text` under a name of this process's own, then rename: readers and other jobs writing the same
    corpus see the whole file or none of it."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        partial.write_text(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)  # a failed write leaves nothing behind
        raise


def summary(directory: Path) -> dict[str, Any]:
    """Shards, examples and rejection counts of a corpus, from its shards' statistics."""
    manifest = read_manifest(directory) or {}
    totals: dict[str, float] = {}
    done = 0
    for index in range(manifest.get("shards", 0)):
        stats_path = shard_path(directory, index).with_suffix(".json")
        if shard_path(directory, index).is_file() and stats_path.is_file():
            done += 1
            for key, value in json.loads(stats_path.read_text()).items():
                totals[key] = totals.get(key, 0) + value
    return {"shards": done, "of": manifest.get("shards", 0), **totals}


def corpus_identity(directory: str | Path) -> dict[str, Any]:
    """What identifies a corpus's contents: where it is and how far it was generated."""
    manifest = read_manifest(Path(directory)) or {}
    return {"path": str(Path(directory).resolve()), "shards": manifest.get("shards"), "task": manifest.get("task")}


def read_pairs(directory: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """Every example of a finished corpus, in shard order: ("file:line", problem tokens, solution tokens)."""
    manifest = read_manifest(directory)
    if manifest is None:
        raise ConfigError(f"{directory} is not a corpus (no {MANIFEST}); write one with `lit-math generate`")
    missing = [i for i in range(manifest["shards"]) if not shard_path(directory, i).is_file()]
    if missing:
        raise ConfigError(
            f"the corpus {directory} is unfinished: {len(missing)} of {manifest['shards']} shards missing "
            f"(first: {shard_path(directory, missing[0]).name}); rerun `lit-math generate` to finish it"
        )
    for index in range(manifest["shards"]):
        path = shard_path(directory, index)
        with path.open() as lines:
            for number, line in enumerate(lines, start=1):
                sides = line.rstrip("\n").split("\t")
                if len(sides) != 2:
                    raise ConfigError(f"{path}:{number}: not two tab-separated sides")
                yield f"{path}:{number}", sides[0].split(), sides[1].split()
