"""`lit-math generate`: write a training corpus of any family in parallel shards, resumably."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from lit_math.errors import ConfigError


def main(argv: Sequence[str]) -> int:
    """Write at least N training examples of a `fit` config's data to a corpus directory (rerun to resume)."""
    parser = argparse.ArgumentParser(prog="lit-math generate", description=main.__doc__)
    parser.add_argument("--config", type=Path, required=True, help="a `lit-math fit` config (its data section)")
    parser.add_argument("--n", type=int, required=True, help="examples to write (rounded up to whole shards)")
    parser.add_argument("--out", type=Path, required=True, help="the corpus directory (train with --data.source)")
    parser.add_argument("--workers", type=int, default=1, help="processes generating shards (default 1)")
    parser.add_argument("--shard-size", type=int, default=1000, help="examples per shard (default 1000)")
    args = parser.parse_args(argv)
    from lit_math.data import data_from_spec
    from lit_math.data.config import load_data_config
    from lit_math.data.corpus import generate

    try:
        spec = load_data_config(args.config)
        spec.setdefault("init_args", {}).pop("source", None)  # the corpus is what this writes, not what it reads
        data = data_from_spec(spec)
        summary = generate(data, args.n, args.out, args.workers, args.shard_size)
    except ConfigError as error:
        parser.error(str(error))
    print(json.dumps(summary))
    return 0
