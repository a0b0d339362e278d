"""Run by test_corpus.py as `python tests/ddp_corpus_run.py OUT_DIR CORPUS_DIR`: two DDP ranks train on one
pass of a corpus and record the problems they were given (a script, since the DDP launcher re-executes it)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lightning as L

from lit_math.data import IntegrationDataModule
from lit_math.model import Seq2SeqModule
from tests.helpers import TINY_MODEL, trainer
from tests.test_corpus import KNOBS, RecordProblems


def main(out: Path, corpus: Path) -> None:
    L.seed_everything(0)
    data = IntegrationDataModule(**{**KNOBS, "source": str(corpus), "epoch_size": 80})
    record = RecordProblems()
    ddp = trainer(out, devices=2, strategy="ddp", max_epochs=1, limit_val_batches=0, callbacks=[record])
    ddp.fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)
    (out / f"keys_rank{ddp.global_rank}.json").write_text(json.dumps(record.keys))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
