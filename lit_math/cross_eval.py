"""`lit-math cross-eval`: every checkpoint on every data config, the out-of-distribution table of the papers.

Rows are the checkpoints (what they were trained on), columns the evaluation sets of each data config; a cell
is the accuracy (and acc@k with a beam, and the share of problems the codec could not write where a typed
evaluation file has some: they count as wrong). Works for any family: it only runs `validate`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from lit_math.checkpoint import read_checkpoint
from lit_math.data.config import load_data_config
from lit_math.errors import ConfigError, check_int


def run_label(path: Path) -> str:
    """`name/version_N` for a checkpoint inside a run folder, else the file's stem."""
    parts = path.resolve().parts
    if len(parts) >= 4 and parts[-2] == "checkpoints" and parts[-3].startswith("version_"):
        return f"{parts[-4]}/{parts[-3]}"
    return path.stem


def cross_eval(
    checkpoints: Sequence[Path], configs: Sequence[Path], beam_size: int = 1, accelerator: str = "auto"
) -> tuple[list[str], list[str], list[list[str]], dict[str, float]]:
    """Rows, columns, cells (text) and the metrics by 'row|column' name."""
    import lightning as L

    from lit_math.data import data_from_spec
    from lit_math.model import Seq2SeqModule
    from lit_math.model.module import TaskMismatch, check_same_network

    datas = {path.stem: data_from_spec(load_data_config(path)) for path in configs}
    columns = [f"{name}/{eval_set}" for name, data in datas.items() for eval_set in data.eval_set_names]
    rows, cells, metrics = [], [], {}
    for path in checkpoints:
        read_checkpoint(str(path))  # a clear error for anything that is not a lit-math checkpoint
        module = Seq2SeqModule.load_from_checkpoint(path, beam_size=beam_size)
        label, row = run_label(path), []
        for name, data in datas.items():
            try:
                check_same_network(module.task.config(), data.task)
            except TaskMismatch:
                row += ["n/a (other vocabulary)"] * len(data.eval_set_names)
                continue
            trainer = L.Trainer(
                accelerator=accelerator, devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False
            )
            results = {k: v for d in trainer.validate(module, data, verbose=False) for k, v in d.items()}
            for eval_set in data.eval_set_names:
                accuracy = results[f"val/{eval_set}/acc"]
                metrics[f"{label}|{name}/{eval_set}"] = accuracy
                cell = f"{accuracy:.3f}"
                if beam_size > 1:
                    in_beam = results[f"val/{eval_set}/acc@{beam_size}"]
                    metrics[f"{label}|{name}/{eval_set}@{beam_size}"] = in_beam
                    cell += f" ({in_beam:.3f} @{beam_size})"
                unwritable = results.get(f"val/{eval_set}/not_encodable", 0.0)
                if unwritable:  # typed problems the codec cannot write: in the accuracy's denominator, said here
                    metrics[f"{label}|{name}/{eval_set}/not_encodable"] = unwritable
                    cell += f" ({unwritable:.1%} not encodable)"
                row.append(cell)
        rows.append(label)
        cells.append(row)
    return rows, columns, cells, metrics


def markdown(rows: list[str], columns: list[str], cells: list[list[str]]) -> str:
    lines = ["| trained on / tested on | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {row} | " + " | ".join(values) + " |" for row, values in zip(rows, cells, strict=True)]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Evaluate every checkpoint on every data config; print the table (rows: training, columns: test data)."""
    parser = argparse.ArgumentParser(prog="lit-math cross-eval", description=main.__doc__)
    parser.add_argument("--ckpt", type=Path, action="append", required=True, help="a checkpoint (repeat)")
    parser.add_argument("--data", type=Path, action="append", required=True, help="a `fit` config (repeat)")
    parser.add_argument("--beam-size", type=int, default=1, help="also report acc@k with a beam of k")
    parser.add_argument("--accelerator", default="auto", help="Lightning accelerator (default: auto)")
    parser.add_argument("--logdir", type=Path, help="also write the table and scalars for TensorBoard here")
    args = parser.parse_args(argv)
    try:
        from lit_math.model.module import MAX_BEAM_SIZE

        check_int("--beam-size", args.beam_size, 1, MAX_BEAM_SIZE)
        rows, columns, cells, metrics = cross_eval(args.ckpt, args.data, args.beam_size, args.accelerator)
    except ConfigError as error:
        parser.error(str(error))
    table = markdown(rows, columns, cells)
    print(table)
    if args.logdir is not None:
        from torch.utils.tensorboard import SummaryWriter

        with SummaryWriter(str(args.logdir)) as writer:
            writer.add_text("cross_eval", table)
            for name, value in metrics.items():
                writer.add_scalar(f"cross_eval/{name.replace('|', '/on/')}", value)
    print(f"lit-math: cross-eval: logged to {args.logdir}" if args.logdir else "lit-math: cross-eval: no files written")
    return 0
