"""The integration out-of-distribution table at CPU scale (Lample & Charton 2020; the talk's first lesson).

    python3 bench/integration_ood.py [--out bench/out/integration_ood] [--quick] [--bwd N --fwd N --ibp N]

FWD makes short problems with long solutions, BWD the reverse, IBP sits in between: a model trained on one
mode and tested on the others shows what the shape of its data taught it. Every step is skipped once its
output exists, so an interrupted run continues where it stopped (run the same command again):
1. corpora, with `lit-math generate` on every core: BWD, FWD, and IBP joined over the BWD corpus;
2. one small model per mode, and one on the FWD + BWD mixture (half the batches each, the talk's audience
   question), `lit-math fit` on the same budget of --examples each, in as many passes over its corpus as that
   takes (resumed from its last.ckpt);
3. `cross-eval` of every model, greedy and with a beam of 10, on each mode's held-out `valid` set and on the
   textbook integrals (`configs/integration/textbook_integrals.txt`; lines over --max-len tokens count as
   not encodable, so as wrong);
4. the same table over the problems each row's training corpora never held (each corpus holds out its own
   mode's set only, and at small tree sizes the modes share problems: a quarter of the FWD set is in the BWD
   corpus), which is the one to read;
5. the tables (rows: trained on, columns: tested on, acc@1 and acc@10) and each corpus's lengths, printed and
   written to OUT/table.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from lit_math.cross_eval import cross_eval, markdown
from lit_math.data import data_from_spec
from lit_math.data.config import load_data_config
from lit_math.data.stream import EvaluationShard
from lit_math.model import Seq2SeqModule
from lit_math.shards import read_manifest, read_pairs
from lit_math.tasks import Task, count, take
from lit_math.tasks.symbolic import IDS, token_key

ROOT = Path(__file__).resolve().parents[1]
MODES = ("bwd", "fwd", "ibp")
SIZES = {"bwd": 100_000, "fwd": 20_000, "ibp": 20_000}
"""Pairs per corpus by default: at max_ops 5 one core makes about 880 BWD, 6.6 FWD and 2.6 IBP (joined) pairs/s."""
QUICK = {"bwd": 300, "fwd": 40, "ibp": 40}
MIXTURE = ("fwd", "bwd")
"""The mixture's members, in equal shares."""
EPOCH = 4000
"""Training examples between checkpoints (no validation during training: `cross-eval` scores the models)."""
MODEL = {"d_model": 128, "n_enc_layers": 2, "n_dec_layers": 2, "n_heads": 4, "lr": 5.0e-4, "warmup_steps": 100}


def lit_math(*words: object) -> None:
    """`lit-math WORDS` in a process of its own, as a user runs it; a failure stops the benchmark."""
    command = [sys.executable, "-m", "lit_math.cli", *map(str, words)]
    print("+ lit-math", " ".join(map(str, words)), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def data(mode: str, args: argparse.Namespace, out: Path, **knobs: object) -> dict:
    init = {"mode": mode, "max_ops": args.max_ops, "max_len": args.max_len, "seconds": 3.0, "seed": 0}
    if mode == "ibp":
        init["known"] = str(out / "corpus" / "bwd")
    return {"class_path": "lit_math.data.IntegrationDataModule", "init_args": {**init, **knobs}}


def write_config(path: Path, config: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def generate(args: argparse.Namespace, out: Path, sizes: dict[str, int]) -> None:
    for mode in MODES:  # BWD first: IBP joins it
        # the same held-out set as training and evaluation (drawn once, cached): never written to a corpus
        held_out = data(mode, args, out, eval_size=args.eval_size)
        config = write_config(out / "configs" / f"generate_{mode}.yaml", {"data": held_out})
        manifest = read_manifest(out / "corpus" / mode)  # a corpus keeps its shard size when it grows
        shard_size = manifest["shard_size"] if manifest else max(sizes[mode] // 20, 10)
        words = [
            "--n",
            sizes[mode],
            "--out",
            out / "corpus" / mode,
            "--workers",
            args.workers,
            "--shard-size",
            shard_size,
        ]
        lit_math("generate", "--config", config, *words)


def train(args: argparse.Namespace, out: Path) -> dict[str, Path]:
    """One model per mode and one on the mixture, each on `args.examples` examples (passes over its corpus)."""
    checkpoints = {}
    epoch = min(EPOCH, args.examples) // 32 * 32
    for name in [*MODES, "+".join(MIXTURE)]:
        run = out / "runs" / name
        checkpoints[name] = out / "models" / f"{name}.ckpt"  # its name is the table's row
        if checkpoints[name].is_file():
            continue
        members = name.split("+")
        sources = {
            mode: data(mode, args, out, source=str(out / "corpus" / mode), eval_size=args.eval_size) for mode in members
        }
        for mode, spec in sources.items():  # passes enough for its share of the budget
            share = args.examples / len(members)
            spec["init_args"]["passes"] = max(1, math.ceil(share / corpus_size(out, mode) * 1.1))
        if len(members) == 1:
            spec = sources[name]
            spec["init_args"].update(epoch_size=epoch, batch_size=32)
        else:
            for member in sources.values():
                del member["init_args"]["seed"]  # the mixture seeds its members
            spec = {
                "class_path": "lit_math.data.MixtureDataModule",
                "init_args": {"members": sources, "epoch_size": epoch, "batch_size": 32},
            }
        config = {
            "seed_everything": 0,
            "trainer": {
                "max_epochs": max(args.examples // epoch, 1),
                "accelerator": "cpu",
                "devices": 1,
                "gradient_clip_val": 5.0,
                "log_every_n_steps": 20,
                "limit_val_batches": 0,
                "num_sanity_val_steps": 0,
                "default_root_dir": str(run),
                "logger": {
                    "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                    "init_args": {"save_dir": str(out / "tensorboard"), "name": name},
                },
            },
            "checkpoint": {"dirpath": str(run), "filename": "{epoch}-{step}"},
            "model": MODEL,
            "data": spec,
        }
        path = write_config(out / "configs" / f"train_{name}.yaml", config)
        last = run / "last.ckpt"
        lit_math("fit", "--config", path, *(["--ckpt_path", last] if last.is_file() else []))
        checkpoints[name].parent.mkdir(exist_ok=True)
        shutil.copyfile(last, checkpoints[name])
    return checkpoints


def corpus_size(out: Path, mode: str) -> int:
    """Distinct problems of a corpus: what training streams, repeated problems dropped (FWD at max_ops 5 repeats
    a third of its lines)."""
    return len({" ".join(problem) for _, problem, _ in read_pairs(out / "corpus" / mode)})


def evaluate(args: argparse.Namespace, out: Path, checkpoints: dict[str, Path]) -> dict[int, dict]:
    configs = [
        write_config(out / "configs" / f"{mode}.yaml", {"data": data(mode, args, out, eval_size=args.eval_size)})
        for mode in MODES
    ]
    textbook = str(ROOT / "configs" / "integration" / "textbook_integrals.txt")
    configs.append(
        write_config(
            out / "configs" / "textbook.yaml", {"data": data("bwd", args, out, eval_files={"textbook": textbook})}
        )
    )
    tables = {}
    for beam in (1, args.beam):
        path = out / f"cross_eval_beam{beam}.json"
        if not path.is_file():
            rows, columns, cells, metrics = cross_eval(list(checkpoints.values()), configs, beam, "cpu")
            path.write_text(json.dumps({"rows": rows, "columns": columns, "cells": cells, "metrics": metrics}))
        tables[beam] = json.loads(path.read_text())
        path = out / f"unseen_beam{beam}.json"
        if not path.is_file():
            path.write_text(json.dumps(unseen(out, checkpoints, configs, beam)))
        tables[f"unseen{beam}"] = json.loads(path.read_text())
    return tables


def unseen(out: Path, checkpoints: dict[str, Path], configs: list[Path], beam: int) -> dict:
    """The table over the problems a row's training corpora never held. Each corpus holds out its own mode's
    set only, and at max_ops 5 the modes share problems (the BWD corpus holds a quarter of the FWD set): the
    cross-eval cells would score memorised problems. A cell says how many of its set's problems it left out."""
    datas = {path.stem: data_from_spec(load_data_config(path)) for path in configs}
    columns = [f"{name}/{s}" for name, data in datas.items() for s in data.eval_set_names]
    rows, cells = [], []
    for name, checkpoint in checkpoints.items():
        module = Seq2SeqModule.load_from_checkpoint(checkpoint, beam_size=beam).eval()
        seen = np.concatenate([corpus_keys(out, mode, module.task) for mode in name.split("+")])
        row = []
        for data in datas.values():
            for problems in data.eval_problems.values():
                fresh = np.flatnonzero(~np.isin(data.task.keys(problems), seen))
                shard = EvaluationShard(data.task, take(problems, fresh), 64, 1, 0)
                with torch.no_grad():
                    answers = [module.answer(batch, data.task) for batch in shard.batches]
                right = np.concatenate([a["correct"] for a in answers]).mean()
                cell = f"{right:.3f}"
                if beam > 1:
                    cell += f" ({np.concatenate([a['correct_in_beam'] for a in answers]).mean():.3f} @{beam})"
                left_out = count(problems) - len(fresh)
                row.append(cell + (f" [{left_out} in its corpora, left out]" if left_out else ""))
        rows.append(name)
        cells.append(row)
    return {"rows": rows, "columns": columns, "cells": cells}


def corpus_keys(out: Path, mode: str, task: Task) -> np.ndarray:
    ids = {token: i for i, token in enumerate(task.vocabulary.tokens)}
    problems = (np.array([ids[t] for t in problem], dtype=IDS) for _, problem, _ in read_pairs(out / "corpus" / mode))
    return np.array([token_key(problem) for problem in problems], dtype=np.int64)


def lengths(out: Path) -> str:
    lines = [
        "| corpus | pairs | problem tokens, mean (median) | solution tokens, mean (median) |",
        "|---|---:|---:|---:|",
    ]
    for mode in MODES:
        pairs = [(len(p), len(s)) for _, p, s in read_pairs(out / "corpus" / mode)]
        problem, solution = np.array(pairs).T
        lines.append(
            f"| {mode.upper()} | {len(pairs):,} | {problem.mean():.1f} ({np.median(problem):.0f}) | "
            f"{solution.mean():.1f} ({np.median(solution):.0f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "integration_ood")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the whole pipeline in minutes")
    parser.add_argument("--max-ops", type=int, default=5, help="operators of a random tree (the paper: 15)")
    parser.add_argument("--max-len", type=int, default=128, help="longest problem or solution in tokens")
    parser.add_argument("--eval-size", type=int, default=200, help="held-out problems per mode")
    parser.add_argument("--beam", type=int, default=10)
    parser.add_argument("--examples", type=int, default=40_000, help="training examples seen by each model")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    for mode in MODES:
        parser.add_argument(f"--{mode}", type=int, default=SIZES[mode], help=f"{mode.upper()} pairs in its corpus")
    args = parser.parse_args()
    if args.quick:
        args.max_ops, args.eval_size, args.beam, args.examples = 3, 8, 2, 192
    sizes = QUICK if args.quick else {mode: getattr(args, mode) for mode in MODES}
    out = args.out.resolve()
    started = time.perf_counter()
    generate(args, out, sizes)
    checkpoints = train(args, out)
    tables = evaluate(args, out, checkpoints)
    report = [
        f"# Integration out of distribution: max_ops {args.max_ops}, corpora {sizes}, {args.examples:,} training "
        f"examples a model, {args.eval_size} held out"
    ]
    for key, table in tables.items():
        beam = int(str(key).removeprefix("unseen"))
        decoding = "greedy" if beam == 1 else f"beam {beam}: acc@1 (acc@{beam})"
        what = "on the problems the row's corpora never held" if str(key).startswith("unseen") else "cross-eval"
        report += [f"\n## {decoding}, {what}\n", markdown(table["rows"], table["columns"], table["cells"])]
    report += ["\n## Lengths\n", lengths(out), f"\n(this run: {time.perf_counter() - started:,.0f} s)"]
    text = "\n".join(report)
    (out / "table.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
