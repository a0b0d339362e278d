"""How fast a corpus is read and served: the corpus path must feed training faster than a GPU consumes it.

    taskset -c 0 python3 bench/corpus.py [--examples 200000] [--batch-size 32]

Writes a corpus of distinct token lines shaped like BWD pairs (problem 20-120 tokens, solution 5-60 tokens,
drawn from the integration vocabulary: reading never parses expressions, so random tokens cost the same),
then times reading it (`Corpus`: tokens to ids, deduplication, held-out filter) and serving one epoch of
batches through the real training path (`CorpusStream` + `StreamSampler` + `StatefulDataLoader`, in the
main process: one worker's rate).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from lit_math.data.corpus import Corpus
from lit_math.data.stream import HeldOut, StreamSampler
from lit_math.data.symbolic import CorpusStream
from lit_math.shards import FORMAT, MANIFEST, shard_path
from lit_math.tasks import IntegrationTask


def write_corpus(directory: Path, task: IntegrationTask, examples: int, shard_size: int = 10_000) -> None:
    rng = np.random.default_rng(0)
    words = [t for t in task.vocabulary.tokens[3:]]
    shards = -(-examples // shard_size)
    for index in range(shards):
        lines = []
        for _ in range(shard_size):
            problem = rng.choice(words, rng.integers(20, 121))
            solution = rng.choice(words, rng.integers(5, 61))
            lines.append(f"{' '.join(problem)}\t{' '.join(solution)}\n")
        shard_path(directory, index).write_text("".join(lines))
    manifest = {"format": FORMAT, "data": {}, "task": task.config(), "shard_size": shard_size, "shards": shards}
    (directory / MANIFEST).write_text(json.dumps(manifest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    task = IntegrationTask(mode="bwd")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_corpus(directory, task, args.examples)
        start = time.perf_counter()
        corpus = Corpus(directory, task, HeldOut(task, []))
        read = time.perf_counter() - start
        from torchdata.stateful_dataloader import StatefulDataLoader

        batches = len(corpus) // args.batch_size
        stream = CorpusStream(task, corpus, args.batch_size, batches, seed=0)
        loader = StatefulDataLoader(stream, batch_size=None, sampler=StreamSampler(batches, 1, 0))
        start = time.perf_counter()
        tokens = sum(int((batch["source"] != 0).sum()) for batch in loader)
        served = time.perf_counter() - start
    print(f"# {platform.processor() or platform.machine()}, {len(corpus)} examples, batch {args.batch_size}")
    print(f"read:  {read:.1f} s, {len(corpus) / read:,.0f} examples/s")
    print(f"serve: {len(corpus) / served:,.0f} examples/s ({tokens / served:,.0f} source tokens/s) on one core")


if __name__ == "__main__":
    main()
