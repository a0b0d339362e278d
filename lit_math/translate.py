"""`lit-math translate`: the model's answer to one problem, read from a checkpoint alone."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from lit_math.checkpoint import read_checkpoint
from lit_math.errors import ConfigError, check_int
from lit_math.model import Seq2SeqModule
from lit_math.model.module import MAX_BEAM_SIZE


def main(argv: Sequence[str]) -> int:
    """Print the model's answer to one problem given as words, then the rest of the beam (with `--beam K`);
    symbolic answers are marked [verified] when they check out."""
    parser = argparse.ArgumentParser(prog="lit-math translate", description=main.__doc__)
    parser.add_argument("--ckpt", required=True, help="checkpoint written by `lit-math fit`")
    parser.add_argument("--device", default="cpu", help="torch device to run on (default: cpu)")
    parser.add_argument("--beam", type=int, default=None, help="beam size (default: the checkpoint's beam_size)")
    parser.add_argument(
        "problem", nargs="+", help="the problem: `10 32` for gcd(10, 32), `x*cos(x)` to integrate, `dy - y = 0`"
    )
    args = parser.parse_args(argv)
    try:
        device = torch.device(args.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"--device {args.device}: no CUDA device is available here")
        read_checkpoint(args.ckpt)
        module = Seq2SeqModule.load_from_checkpoint(args.ckpt, map_location=device).eval()
        problems = module.task.parse_problem(args.problem)
        beam = check_int("--beam", module.hparams.beam_size if args.beam is None else args.beam, 1, MAX_BEAM_SIZE)
    except (ConfigError, RuntimeError) as error:  # torch.device raises RuntimeError on a bad name
        parser.error(str(error))
    source, beams, readings = module.translate(problems, beam)
    print(readings[0][0])
    print("source:", " ".join(module.vocabulary.words(source[0])))
    print("output:", " ".join(module.vocabulary.words(beams[0, 0])))
    for rank, (ids, reading) in enumerate(zip(beams[0, 1:], readings[0][1:], strict=True), start=2):
        print(f"beam {rank}: {reading}    ({' '.join(module.vocabulary.words(ids))})")
    return 0
