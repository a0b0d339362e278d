"""Run by test_ddp.py as `python tests/ddp_run.py OUT_DIR`: Lightning's DDP launcher re-executes this
command line for the second process, which is why DDP is tested from a script and not inside pytest."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lightning as L

from lit_math.callbacks import GCDClassPredictions
from tests.helpers import RecordBatches, tiny_data, tiny_model, trainer


def main(out: Path) -> None:
    L.seed_everything(0)
    data = tiny_data(natural_size=150, per_class=2)  # natural: 75 problems a rank; classes: 40, under one batch
    module = tiny_model(data)
    record = RecordBatches()
    ddp = trainer(
        out, devices=2, strategy="ddp", max_steps=6, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[record]
    )
    ddp.fit(module, data)
    rank = ddp.global_rank
    (out / f"pairs_rank{rank}.json").write_text(json.dumps(record.seen))
    ddp.save_checkpoint(out / "model.ckpt")
    classes = GCDClassPredictions(classes=20)
    evaluate = trainer(out, devices=2, strategy="ddp", callbacks=[classes])
    metrics = {k: v for per_set in evaluate.validate(module, data, verbose=False) for k, v in per_set.items()}
    (out / f"table_rank{rank}.json").write_text(json.dumps(classes.table.counts.tolist()))
    if rank == 0:
        (out / "metrics.json").write_text(json.dumps(metrics))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
