"""Your own data files: Int2Int's typed format, exact and tolerant scoring, malformed lines, the round trip."""

import numpy as np
import pytest

from lit_math.data import ArithmeticDataModule, FileDataModule
from lit_math.data.corpus import generate
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.shards import shard_path
from lit_math.tasks import build_task

from .helpers import TINY_MODEL, trainer

GCD_LINES = "V2 + 1 24 + 16\t+ 16\nV2 + 5 + 10\t+ 5\nV2 + 7 + 3\t+ 1\nV2 + 9 + 12\t+ 3\n"
CURVES = "V5 + 0 - 1 + 0 - 84 375 258 - 298 283 918 238\t1\nV5 + 1 + 0 + 0 + 0 + 7\t0\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_int2int_files_train_and_evaluate(tmp_path):
    data = FileDataModule(
        types="int[2]:int",
        train_file=write(tmp_path, "train.txt", GCD_LINES),
        eval_files={"valid": write(tmp_path, "test.txt", "V2 + 8 + 12\t+ 4\nV2 + 5 + 10\t+ 5\n")},
        batch_size=2,
    )
    task = data.task
    assert (task.source_len, task.target_len) == (6, 2) and build_task(task.config()) == task
    data.trainer = None
    lines = {" ".join(task._words(row)) for batch in data.train_dataloader() for row in batch["problems"]["problem"]}
    assert lines == {"V2 + 1 24 + 16", "V2 + 7 + 3", "V2 + 9 + 12"}  # 5, 10 is a test problem: left out
    valid = data.eval_problems["valid"]
    reference = task.encode(valid)[1][:, 1:]
    assert task.score(valid, reference).all() and task.render(valid, reference) == ["+ 4", "+ 5"]
    module = Seq2SeqModule(task=data.task_config, **TINY_MODEL)
    trainer(tmp_path, max_epochs=2).fit(module, data)  # the model, the stream and the loop take it as any family


def test_a_range_output_is_a_class_and_scored_exactly(tmp_path):
    path = write(tmp_path, "curves.txt", CURVES)
    data = FileDataModule(types="int[5]:range(2)", eval_files={"valid": path})
    task, valid = data.task, data.eval_problems["valid"]
    assert task.classes(valid).tolist() == [1, 0] and task.classes_are == "the answer (range output)"
    flipped = np.array([[task.vocabulary.id("0"), 2], [task.vocabulary.id("1"), 2]])
    assert task.score(valid, flipped).tolist() == [False, False]
    assert task.score(valid, task.encode(valid)[1][:, 1:]).tolist() == [True, True]


def test_floats_are_scored_within_the_tolerance(tmp_path):
    path = write(tmp_path, "f.txt", "V2 + 100 E-2 + 200 E-2\t+ 300 E-2\n")
    data = FileDataModule(types="float[2]:float", eval_files={"valid": path}, tolerance=0.02)
    task, valid = data.task, data.eval_problems["valid"]

    def answer(words):
        return np.array([[*task.vocabulary.ids(words.split()), 2]])

    assert task.score(valid, answer("+ 303 E-2"))[0]  # 1% off: right at 2%
    assert not task.score(valid, answer("+ 310 E-2"))[0]  # 3.3% off
    right, kinds = task.judge(valid, answer("+ 303"))
    assert not right[0] and kinds["malformed"][0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("V2 + 1 + 2 + 3", "1 tab-separated fields, expected 2"),
        ("V2 + 1 + 2\t+ 3\textra", "3 tab-separated fields"),
        ("+ 1 + 2\t+ 3", "expected V2 at token 1"),
        ("V2 + 1\t+ 3", "ends early: expected int at token 4"),
        ("V2 + 0 1 + 2\t+ 3", "leading zero"),
        ("V2 + 1 + 2\t+ 3 + 4", "2 tokens left after the declared types"),
        ("V2 + 1 + 2\t+ 1000", "'1000' is not a base-1000 digit"),
    ],
)
def test_a_malformed_line_stops_the_run_with_file_line_and_reason_unless_skipped(tmp_path, line, reason):
    path = write(tmp_path, "bad.txt", GCD_LINES + line + "\n")
    data = FileDataModule(types="int[2]:int", eval_files={"valid": path})  # files are read in setup, not here
    with pytest.raises(ConfigError, match=f"bad.txt:5: .*{reason}"):
        data.setup("fit")
    with pytest.warns(UserWarning, match="skipped 1 malformed lines, first: .*bad.txt:5"):
        data = FileDataModule(types="int[2]:int", eval_files={"valid": path}, skip_invalid=True)
        data.setup("fit")
    assert len(data.skipped) == 1 and len(data.eval_problems["valid"]["problem"]) == 4


@pytest.mark.parametrize(
    ("types", "message"),
    [("int", "input:output"), ("int:complex", "'complex' is not a data type"), ("int,range(0,2):int", "after an int")],
)
def test_bad_types_are_named(tmp_path, types, message):
    with pytest.raises(ConfigError, match=message):
        FileDataModule(types=types, eval_files={"valid": write(tmp_path, "t.txt", GCD_LINES)})


def test_generate_then_file_then_data_module_gives_the_same_examples(tmp_path):
    source = ArithmeticDataModule(operation="add", base=10, max_int=999, eval_size=50, epoch_size=256, batch_size=64)
    generate(source, 300, tmp_path / "corpus", shard_size=300, progress=False)
    shard = shard_path(tmp_path / "corpus", 0)
    written = shard.read_text().splitlines()
    data = FileDataModule(types="int,int:int", base=10, eval_files={"valid": str(shard)}, eval_size=300)
    valid = data.eval_problems["valid"]
    assert [f"{d['problem']}\t{d['solution']}" for d in data.task.describe(valid)] == written
    operands = np.array([data.task.read(line.split("\t")[0].split(), data.task.inputs) for line in written])
    sums = [data.task.read(line.split("\t")[1].split(), data.task.outputs)[0] for line in written]
    assert sums == (operands[:, 0] + operands[:, 1]).tolist()  # the typed reading is Python's arithmetic
    assert data.task.score(valid, data.task.encode(valid)[1][:, 1:]).all()


def test_any_family_reads_back_as_tokens(tmp_path):
    path = write(tmp_path, "any.txt", "add x + 1\tx\nmul x x\tpow x + 2\n")
    data = FileDataModule(types="tokens:tokens", eval_files={"valid": path})
    assert set(data.task.vocabulary.tokens) >= {"add", "x", "+", "1", "mul", "pow", "2"}
    problem = data.task.parse_problem(["add", "x", "+", "1"])
    assert problem["problem"].shape == (1, 4)
    with pytest.raises(ConfigError, match="token 'sin' is not one the declared types write"):
        data.task.parse_problem(["sin", "x"])


def test_generated_garbage_is_malformed_never_an_error(tmp_path):
    data = FileDataModule(types="int[2]:int", eval_files={"valid": write(tmp_path, "t.txt", GCD_LINES)})
    task, valid = data.task, data.eval_problems["valid"]
    n, plus, seven = 4, task.vocabulary.id("+"), task.vocabulary.id("7")
    garbage = [
        np.full((n, 3), 10**6),  # ids past the vocabulary
        np.array([[plus, seven, 0, 2]] * n),  # PAD inside the answer, then EOS
        np.zeros((n, 0), dtype=np.int64),  # nothing generated
        np.array([[plus, seven]] * n),  # no EOS
    ]
    for hypotheses in garbage:
        right, kinds = task.judge(valid, hypotheses)
        assert not right.any() and kinds["malformed"].all()
        assert len(task.render(valid, hypotheses)) == n


def test_file_problems_that_leave_nothing_to_train_on_or_use_reserved_tokens_are_named(tmp_path):
    path = write(tmp_path, "same.txt", GCD_LINES)
    with pytest.raises(ConfigError, match="holds 0 examples outside the evaluation files, fewer than batch_size=2"):
        FileDataModule(types="int[2]:int", train_file=path, eval_files={"valid": path}, batch_size=2).setup("fit")
    reserved = write(tmp_path, "reserved.txt", "a b\tc\nx <eos>\ty\n")
    with pytest.raises(ConfigError, match=r"reserved.txt:2: '<eos>' is a reserved token"):
        FileDataModule(types="tokens:tokens", eval_files={"valid": reserved}).setup("fit")
    feed = write(tmp_path, "feed.txt", "V2 + 1 + 2\t+ 1\f\nV2 + 3\t+ 1\n")  # a form feed is no line end
    with pytest.raises(ConfigError, match=r"feed.txt:2: ends early"):
        FileDataModule(types="int[2]:int", eval_files={"valid": feed}).setup("fit")


def test_p10_files_may_write_zero_as_lawt_does(tmp_path):
    path = write(tmp_path, "zeros.txt", "V2 + 0 E0 + 1 0 0 E-2\t+ 1 0 0 E-2\nV2 + 0 0 0 E0 - 2 5 0 E-2\t+ 0 E0\n")
    data = FileDataModule(types="float[2]:float", encoding="P10", eval_files={"valid": path})
    task, valid = data.task, data.eval_problems["valid"]
    assert [task.read(task._words(row), task.inputs) for row in valid["problem"]] == [[0.0, 1.0], [0.0, -2.5]]
    assert task.score(valid, task.encode(valid)[1][:, 1:]).all()


def test_an_int_answer_is_its_own_class_as_int2int_prints_accuracy_per_gcd(tmp_path):
    path = write(tmp_path, "gcd.txt", GCD_LINES)
    by_answer = FileDataModule(types="int[2]:int", eval_files={"valid": path})
    valid = by_answer.eval_problems["valid"]
    assert by_answer.task.classes(valid).tolist() == [16, 5, 1, 3]
    assert by_answer.task.classes_are == "the answer (int output)"
    by_length = FileDataModule(types="int[2]:int", eval_files={"valid": path}, classes_by="length")
    assert by_length.task.classes(valid).tolist() == [6, 5, 5, 5]
    with pytest.raises(ConfigError, match="classes_by answer needs one int or range output"):
        FileDataModule(types="int:int[2]", eval_files={"valid": path}, classes_by="answer")
    with pytest.raises(ConfigError, match="classes_by must be one of"):
        FileDataModule(types="int[2]:int", eval_files={"valid": path}, classes_by="digits")
