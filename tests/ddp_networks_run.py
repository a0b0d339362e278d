"""Run by test_networks.py as `python tests/ddp_networks_run.py OUT_DIR NETWORK...`: each named network (from
test_networks.TINY) trains a few steps under DDP on two CPU processes, is saved, and validated under DDP."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lightning as L

from lit_math.model import Seq2SeqModule
from tests.helpers import tiny_data, trainer
from tests.test_networks import TINY


def main(out: Path, names: list[str]) -> None:
    for name in names:
        L.seed_everything(0)
        data = tiny_data(natural_size=150, per_class=2)
        module = Seq2SeqModule(task=data.task_config, network=TINY[name], lr=2e-3, warmup_steps=2)
        ddp = trainer(out, devices=2, strategy="ddp", max_steps=4, limit_val_batches=0, num_sanity_val_steps=0)
        ddp.fit(module, data)
        ddp.save_checkpoint(out / f"{name}.ckpt")
        evaluate = trainer(out, devices=2, strategy="ddp")
        metrics = {k: v for per_set in evaluate.validate(module, data, verbose=False) for k, v in per_set.items()}
        if ddp.global_rank == 0:
            (out / f"{name}.json").write_text(json.dumps(metrics))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
