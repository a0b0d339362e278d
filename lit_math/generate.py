"""`lit-math generate`: write a training corpus of any family in parallel shards, resumably, on one machine or
many (`--part I/N` per job of any scheduler, or `--executor dask` on a Dask cluster)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lit_math.errors import ConfigError

if TYPE_CHECKING:
    from lit_math.data.corpus import Part


def _part(text: str) -> Part:
    from lit_math.data.corpus import Part

    try:
        return Part.parse(text)
    except ConfigError as error:  # argparse names the option: "argument --part: '3/2' is not I/N ..."
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str]) -> int:
    """Write at least N training examples of a `fit` config's data to a corpus directory (rerun to resume)."""
    from lit_math.data.executors import add_executor_options

    parser = argparse.ArgumentParser(prog="lit-math generate", description=main.__doc__)
    parser.add_argument("--config", type=Path, required=True, help="a `lit-math fit` config (its data section)")
    parser.add_argument("--n", type=int, required=True, help="examples to write (rounded up to whole shards)")
    parser.add_argument("--out", type=Path, required=True, help="the corpus directory (train with --data.source)")
    parser.add_argument("--workers", type=int, default=1, help="processes generating shards (default 1)")
    parser.add_argument("--shard-size", type=int, default=1000, help="examples per shard (default 1000)")
    parser.add_argument(
        "--part",
        type=_part,
        default=None,
        metavar="I/N",
        help="write only part I of N (0-based, e.g. --part $SLURM_ARRAY_TASK_ID/8): the shards k with k %% N == I;"
        " jobs given the parts 0/N..N-1/N fill one corpus folder on a shared file system",
    )
    add_executor_options(parser, "--workers")
    args = parser.parse_args(argv)
    from lit_math.data import data_from_spec
    from lit_math.data.config import load_data_config
    from lit_math.data.corpus import WHOLE, ShardsFailed, generate
    from lit_math.data.executors import chosen_executor
    from lit_math.process import SIGTERM, Terminated, stop_at_once_on_sigterm

    stop_at_once_on_sigterm()  # a cancelled job (scancel, a time limit) lets go of its part on the way out
    try:
        executor = chosen_executor(args, args.workers)
        spec = load_data_config(args.config)
        spec.setdefault("init_args", {}).pop("source", None)  # the corpus is what this writes, not what it reads
        data = data_from_spec(spec)
        summary = generate(data, args.n, args.out, args.workers, args.shard_size, True, args.part or WHOLE, executor)
    except ConfigError as error:
        parser.error(str(error))
    except ShardsFailed as error:
        print(f"lit-math generate: {error}", file=sys.stderr)
        return 1
    except Terminated:
        print("lit-math generate: stopped by SIGTERM; run the same command again to finish", file=sys.stderr)
        return 128 + SIGTERM
    print(json.dumps(summary))
    return 0
