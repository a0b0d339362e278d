"""Generated corpora: resumable parallel writing, clean reading, and training that streams each example once."""

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import lightning as L
import numpy as np
import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_math.data import IntegrationDataModule
from lit_math.data.corpus import Corpus, generate
from lit_math.data.stream import HeldOut
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.shards import shard_path
from lit_math.tasks import IntegrationTask
from lit_math.tasks.integration import X
from lit_math.tasks.symbolic import token_key
from lit_math.tasks.verify import Verdict, check_antiderivative

from .helpers import TINY_MODEL, trainer

ROOT = Path(__file__).resolve().parents[1]
KNOBS = dict(mode="bwd", max_ops=3, max_len=48, eval_size=16, batch_size=10, seed=2)


def corpus_data(**overrides):
    return IntegrationDataModule(**{**KNOBS, **overrides})


def lines(directory):
    return [line for path in sorted(directory.glob("shard-*.txt")) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """100 examples in 5 shards, by two processes."""
    out = tmp_path_factory.mktemp("corpus") / "bwd"
    generate(corpus_data(), 100, out, workers=2, shard_size=20, progress=False)
    return out


def test_an_interrupted_generation_resumes_without_repeating_work(tmp_path):
    out = tmp_path / "bwd"
    generate(corpus_data(), 40, out, shard_size=20, progress=False)  # a first, shorter job
    finished = shard_path(out, 0).read_bytes()
    shard_path(out, 1).unlink()  # as if killed while writing shard 1: a partial file, no shard
    partial = out / f".{shard_path(out, 1).name}.12345.0badc0de.tmp"  # as write_atomically names them
    partial.write_text("+ 1\thalf a li")
    summary = generate(corpus_data(), 100, out, workers=2, shard_size=20, progress=False)
    assert summary["shards"] == summary["of"] == 5 and summary["examples"] == 100
    assert shard_path(out, 0).read_bytes() == finished  # finished shards are not written again
    assert [len(shard_path(out, i).read_text().splitlines()) for i in range(5)] == [20] * 5
    assert len(lines(out)) == 100 and "half a li" not in shard_path(out, 1).read_text()
    data = corpus_data()
    problems = [np.array(data.task.vocabulary.ids(line.split("\t")[0].split()), dtype=np.int16) for line in lines(out)]
    keys = np.array([token_key(p) for p in problems])
    assert not HeldOut(data.task, [data.eval_problems["valid"]]).contains(keys).any()
    for shard in range(5):  # within a shard, no problem twice; across shards, reading removes repeats
        assert len(set(keys[20 * shard : 20 * shard + 20].tolist())) == 20


def test_reading_drops_repeated_problems(corpus, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(corpus, copy)
    first = shard_path(copy, 0).read_text().splitlines()
    shard_path(copy, 3).write_text("\n".join(first[:5]) + "\n")  # shard 3 now repeats problems of shard 0
    data = corpus_data()
    read = Corpus(copy, data.task, HeldOut(data.task, [data.eval_problems["valid"]]))
    assert read.lines == 85 and read.duplicates >= 5 and len(read) == read.lines - read.duplicates
    problems, _ = read.rows(np.arange(len(read)))
    assert len({p.tobytes() for p in problems}) == len(read)


def test_generation_refuses_another_configuration_in_the_same_folder(corpus):
    with pytest.raises(ConfigError, match="holds a corpus of other settings"):
        generate(corpus_data(max_ops=4), 100, corpus, shard_size=20, progress=False)


def test_training_refuses_a_corpus_of_another_distribution(corpus, tmp_path):
    """A FWD-configured run must not train on BWD pairs: its cross-eval row would say FWD."""
    data = corpus_data(mode="fwd", source=str(corpus), epoch_size=40)
    with pytest.raises(ConfigError, match=r"was written for task .*'bwd'.* not the data's task .*'fwd'"):
        trainer(tmp_path).fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)
    relaxed = corpus_data(source=str(corpus), epoch_size=40, seconds=2.0, max_len=64)  # time limits, longer max
    relaxed.setup("fit")
    assert len(relaxed.corpus) > 80


def test_unfinished_corpora_and_bad_lines_are_named(corpus, tmp_path):
    data = corpus_data()
    held_out = HeldOut(data.task, [data.eval_problems["valid"]])
    broken = tmp_path / "broken"
    shutil.copytree(corpus, broken)
    shard_path(broken, 2).unlink()
    with pytest.raises(ConfigError, match=r"unfinished: 1 of 5 shards missing \(first: shard-00002.txt\); rerun"):
        Corpus(broken, data.task, held_out)
    shutil.copy(shard_path(corpus, 2), shard_path(broken, 2))
    shard_path(broken, 4).write_text("add x x\tmul 2 x\nadd x blah\tx\n")
    with pytest.raises(ConfigError, match=r"shard-00004.txt:2: unknown token 'blah'"):
        Corpus(broken, data.task, held_out)
    with pytest.raises(ConfigError, match=r"is neither a lit-math corpus \(no manifest.json\) nor a folder of"):
        Corpus(tmp_path, data.task, held_out)


class RecordProblems(L.Callback):
    def __init__(self):
        self.keys = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        problems = {k: v.numpy() for k, v in batch["problems"].items()}
        self.keys += pl_module.task.keys(problems).tolist()


def test_training_streams_the_corpus_once_and_stops_when_it_is_exhausted(corpus, tmp_path):
    data = corpus_data(source=str(corpus), epoch_size=40)
    record = RecordProblems()
    fit = trainer(tmp_path, max_epochs=5, callbacks=[record], limit_val_batches=0)
    with pytest.warns(UserWarning, match=r"exhausted after 2 epochs of 40 examples.* not at max_epochs=5"):
        fit.fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)
    assert fit.current_epoch == 2 and len(record.keys) == 80 == len(set(record.keys))


def test_passes_stream_every_example_once_per_pass_each_pass_in_its_own_order(corpus):
    data = corpus_data(source=str(corpus), epoch_size=40, passes=3)
    data.setup("fit")
    n = len(data.corpus)
    epochs = data.available_epochs(4)
    assert epochs == 3 * n // 40
    stream = data.training_stream(4, 1)
    keys = [
        token_key(row[row > 0])
        for e in range(epochs)
        for i in range(4)
        for row in stream[(e, i)]["problems"]["problem"].numpy()
    ]
    first, second = keys[:n], keys[n : 2 * n]
    assert sorted(first) == sorted(second) and len(set(first)) == n and first != second
    assert set(Counter(keys).values()) <= {2, 3} and len(keys) == epochs * 40
    with pytest.raises(IndexError, match="exhausted"):
        stream[(epochs + 1, 0)]  # starts past the 3 * n positions of the three passes
    with pytest.raises(ConfigError, match=r"passes=2 is for a corpus \(source\)"):
        corpus_data(passes=2)


def test_a_corpus_smaller_than_an_epoch_is_an_error(corpus, tmp_path):
    data = corpus_data(source=str(corpus), epoch_size=200)
    with pytest.raises(ConfigError, match=r"holds \d\d examples, less than one epoch \(epoch_size=200\)"):
        trainer(tmp_path).fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)


def test_two_ddp_ranks_stream_each_example_once(corpus, tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ddp_corpus_run.py"), str(tmp_path), str(corpus)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"keys_rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 40  # an epoch of 80 examples, batches of 10: 4 a rank
    assert not set(ranks[0]) & set(ranks[1]) and len(set(ranks[0]) | set(ranks[1])) == 80


def test_the_generate_command_writes_and_resumes(tmp_path, run_main):
    config = tmp_path / "bwd.yaml"
    config.write_text(json.dumps({"data": {"class_path": "lit_math.data.IntegrationDataModule", "init_args": KNOBS}}))
    command = ["generate", "--config", config, "--n", "20", "--shard-size", "10", "--out", tmp_path / "c"]
    code, err = run_main(*command)
    assert code == 0, err[-3000:]
    first = json.loads(run_main.out.splitlines()[-1])
    assert first["examples"] == 20
    code, err = run_main(*command)  # finished: nothing is written again
    assert code == 0 and json.loads(run_main.out.splitlines()[-1]) == first
    code, err = run_main(*command[:-4], "--n", "0", "--out", tmp_path / "d")
    assert code == 2 and "n must be" in err


def test_ibp_joins_the_known_integrals_of_a_corpus(corpus):
    task = IntegrationTask(mode="ibp", known=str(corpus), max_len=128)
    problems = task.sample(np.random.default_rng(0), 20)
    known = {line.split("\t")[0] for line in lines(corpus)}
    seen = []
    for problem, solution in zip(problems["problem"], problems["solution"], strict=True):
        f, F = task.expression(problem), task.expression(solution)
        assert check_antiderivative(f, F, X, seconds=2.0) is Verdict.CORRECT
        seen.append(" ".join(task.vocabulary.words(problem[problem != 0])) in known)
    assert sum(seen) <= 2, seen  # new problems, not copies (a product such as 6 cos(3x) sin(3x) may be both)
    with pytest.raises(ConfigError, match=r"known='.*' is for mode ibp"):
        IntegrationTask(mode="bwd", known=str(corpus))
    with pytest.raises(ConfigError, match=r"is not a FWD or BWD integration corpus .*none"):
        IntegrationTask(mode="ibp", known=str(corpus / "nothing"))


def test_a_run_resumed_mid_epoch_continues_the_pass_over_the_corpus(corpus, tmp_path):
    """Epochs of 4 batches; stop at step 6 (epoch 1), resume to the end of the corpus's 2 epochs."""
    fast = dict(limit_val_batches=0, num_sanity_val_steps=0)
    whole, first, second = RecordProblems(), RecordProblems(), RecordProblems()

    def fit(record, **options):
        data = corpus_data(source=str(corpus), epoch_size=40, num_workers=options.pop("num_workers", 0))
        module = Seq2SeqModule(task=data.task_config, **TINY_MODEL)
        ckpt_path = options.pop("ckpt_path", None)
        trainer(tmp_path, callbacks=[record, *options.pop("callbacks", [])], **fast, **options).fit(
            module, data, ckpt_path=ckpt_path
        )

    fit(whole, max_epochs=2)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=6, save_top_k=-1)
    fit(first, max_steps=6, callbacks=[checkpoint], enable_checkpointing=True, num_workers=2)
    fit(second, max_epochs=2, ckpt_path=str(tmp_path / "ckpt" / "epoch=1-step=6.ckpt"), num_workers=2)
    assert len(whole.keys) == 80 and first.keys + second.keys == whole.keys
