"""The arithmetic family: answers against Python's own arithmetic, scoring, classes, small problem spaces."""

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lit_math.data import ArithmeticDataModule
from lit_math.errors import ConfigError
from lit_math.tasks import build_task
from lit_math.tasks.arithmetic import OPERATIONS, ArithmeticTask


def python_answer(operation, x, modulus):
    """The answer by Python's integers and fractions.Fraction, one problem at a time."""
    if operation in ("frac_compare", "frac_add", "frac_mul"):
        left, right = Fraction(x[0], x[1]), Fraction(x[2], x[3])
    return {
        "add": lambda: [x[0] + x[1]],
        "sub": lambda: [x[0] - x[1]],
        "mul": lambda: [x[0] * x[1]],
        "mod_add": lambda: [(x[0] + x[1]) % modulus],
        "mod_mul": lambda: [(x[0] * x[1]) % modulus],
        "frac_compare": lambda: [(left > right) - (left < right)],
        "frac_add": lambda: [(left + right).numerator, (left + right).denominator],
        "frac_mul": lambda: [(left * right).numerator, (left * right).denominator],
        "frac_simplify": lambda: [Fraction(x[0], x[1]).numerator, Fraction(x[0], x[1]).denominator],
        "frac_round": lambda: [math.floor(Fraction(x[0], x[1]) + Fraction(1, 2))],
        "determinant": lambda: [x[0] * x[3] - x[1] * x[2]],
    }[operation]()


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize(("base", "min_int", "max_int"), [(10, -999, 999), (7, 1, 2**31 - 1)])
def test_answers_are_pythons_and_the_reference_scores_right(operation, base, min_int, max_int):
    modulus = 2**31 - 1 if operation.startswith("mod") else None
    t = ArithmeticTask(operation=operation, base=base, min_int=min_int, max_int=max_int, modulus=modulus)
    problems = t.sample(np.random.default_rng(0), 300)
    x = problems["operands"]
    if operation.startswith("frac"):
        assert (x[:, 1::2] >= 1).all()
    expected = [python_answer(operation, [int(v) for v in row], modulus) for row in x]
    assert t.truth(problems).tolist() == expected
    source, target = t.encode(problems)
    assert source.shape[1] <= t.max_source_len and target.shape[1] <= t.max_target_len
    assert t.score(problems, target[:, 1:]).all()
    answers = t.truth(problems)  # another problem's answer is right exactly when the answers agree
    same = (np.roll(answers, 1, axis=0) == answers).all(axis=1)
    assert (t.score(problems, np.roll(target[:, 1:], 1, axis=0)) == same).all() and not same.all()


def test_integers_are_written_as_in_the_gcd_papers():
    t = ArithmeticTask(operation="frac_add", min_int=-9, max_int=9)
    source, target = t.encode({"operands": np.array([[-3, 4, 1, 2]])})
    words = t.vocabulary.tokens
    assert [words[i] for i in source[0] if i] == ["-", "3", "+", "4", "+", "1", "+", "2", "<eos>"]
    assert [words[i] for i in target[0] if i] == ["<bos>", "-", "1", "+", "4", "<eos>"]  # -3/4 + 1/2 = -1/4


def ids(t, text):
    return np.array([[t.vocabulary.tokens.index(w) for w in [*text.split(), "<eos>"]]])


def test_fractions_must_be_in_lowest_terms_and_malformed_answers_are_counted():
    t = ArithmeticTask(operation="frac_simplify", max_int=99)
    problems = {"operands": np.array([[6, 8]])}
    right, kinds = t.judge(problems, ids(t, "+ 3 + 4"))
    assert right.tolist() == [True] and kinds["same_value"].tolist() == [True]
    right, kinds = t.judge(problems, ids(t, "+ 6 + 8"))  # the value, not simplified: wrong, but diagnosed
    assert right.tolist() == [False] and kinds["same_value"].tolist() == [True]
    for malformed in ("+ 3", "+ 3 + 4 + 5", "3 + 4", "+ 0 3 + 4", "- 0 + 1"):
        right, kinds = t.judge(problems, ids(t, malformed))
        assert not right[0] and kinds["malformed"][0], malformed
    assert t.render(problems, ids(t, "+ 3 + 4")) == ["3/4"]
    huge = np.array([[2**62 + 1, -(2**63 - 2)]])  # -1/2 in disguise; cross products would overflow
    half = {"operands": np.array([[1, 2]])}
    values = t.codec.digit_table(huge.T, None, t.offset).rows([0, 1], end=2, pad=0)[0]
    right, kinds = t.judge(half, values)
    assert not right[0] and not kinds["same_value"][0]
    nothing = t.judge(half, np.zeros((1, 0), dtype=np.int64))
    assert not nothing[0][0] and nothing[1]["malformed"][0]


def test_classes_are_residues_comparisons_or_digits():
    mod = ArithmeticTask(operation="mod_add", modulus=7)
    assert mod.classes({"operands": np.array([[5, 4], [6, 1]])}).tolist() == [2, 0]
    compare = ArithmeticTask(operation="frac_compare", max_int=9)
    assert compare.classes({"operands": np.array([[1, 2, 2, 3], [2, 4, 1, 2], [3, 4, 1, 2]])}).tolist() == [0, 1, 2]
    add = ArithmeticTask(operation="add", max_int=999)
    assert add.classes({"operands": np.array([[0, 0], [5, 5], [999, 1], [999, 999]])}).tolist() == [1, 2, 4, 4]


def test_people_type_problems_as_they_look():
    add = ArithmeticTask(operation="add", max_int=99)
    assert add.parse_problem(["7", "+", "9"])["operands"].tolist() == [[7, 9]]
    assert ArithmeticTask(operation="frac_compare", max_int=9).parse_problem(["3/4 vs 2/3"])["operands"].tolist() == [
        [3, 4, 2, 3]
    ]
    with pytest.raises(ConfigError, match="'seven' is not an integer"):
        add.parse_problem(["seven", "9"])
    with pytest.raises(ConfigError, match=r"outside the trained range 0\.\.99"):
        add.parse_problem(["100", "9"])
    with pytest.raises(ConfigError, match=r"outside the trained range 1\.\.9"):
        ArithmeticTask(operation="frac_round", max_int=9).parse_problem(["3/0"])


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        (dict(operation="power"), "operation must be one of"),
        (dict(operation="mod_add"), "modulus is for mod_add and mod_mul only, and they need one"),
        (dict(operation="add", modulus=7), "modulus is for"),
        (dict(operands="log_uniform"), "log_uniform operands need min_int >= 1"),
        (dict(max_int=2**31), "max_int must be"),
        (dict(min_int=5, max_int=3), "min_int"),
    ],
)
def test_bad_knobs_are_named(knobs, message):
    with pytest.raises(ConfigError, match=message):
        ArithmeticTask(**knobs)


def test_log_uniform_operands_cover_every_order_of_magnitude():
    t = ArithmeticTask(operation="add", min_int=1, max_int=10**6 - 1, operands="log_uniform")
    digits = np.floor(np.log10(t.sample(np.random.default_rng(1), 60_000)["operands"])).astype(int)
    shares = np.bincount(digits.ravel(), minlength=6) / digits.size
    assert np.allclose(shares, 1 / 6, atol=0.01)


def test_a_small_problem_space_is_said_at_start_and_its_pool_is_disjoint():
    data = ArithmeticDataModule(operation="mod_add", modulus=67, eval_size=1000, epoch_size=300_000)
    assert data.task.problem_space == 67 * 67
    data.trainer = None
    with pytest.warns(UserWarning, match=r"the task has 4,489 problems \(3,489 outside the evaluation sets\)"):
        data.train_dataloader()
    finite = ArithmeticDataModule(operation="mod_add", modulus=67, eval_size=1000, train_size=2000, batch_size=100)
    valid = finite.task.keys(finite.eval_problems["valid"])
    assert len(np.unique(valid)) == 1000  # a small space: the evaluation set is distinct problems
    assert not np.isin(finite.task.keys(finite.pool), valid).any()
    assert build_task(finite.task.config()) == finite.task


CONFIGS = Path(__file__).resolve().parents[1] / "configs"
NEW_FAMILIES = sorted(p for folder in ("arithmetic", "polynomials", "files") for p in (CONFIGS / folder).glob("*.yaml"))


@pytest.mark.parametrize("config", NEW_FAMILIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_arithmetic_polynomial_and_file_config_builds(config, tmp_path):
    from lit_math.cli import build_cli

    extra = []
    if config.parent.name == "files":
        train, test = tmp_path / "train.txt", tmp_path / "test.txt"
        train.write_text("V5 + 0 - 1 + 0 - 84 375 258 - 298 283 918 238\t1\n" * 64)
        test.write_text("V5 + 1 + 0 + 0 + 0 + 7\t0\n")
        extra = ["--data.train_file", str(train), "--data.eval_files", f"{{valid: {test}}}"]
    cli = build_cli(["--config", str(config), "--trainer.accelerator", "cpu", *extra], run=False)
    assert cli.model.task == cli.datamodule.task
    assert any(type(c).__name__ == "ErrorAnalysis" for c in cli.trainer.callbacks)


@pytest.mark.slow
def test_a_small_model_learns_3_digit_addition(tmp_path):
    """configs/arithmetic/add_cpu.yaml: over 95% of sums of 3-digit numbers right after 320k examples (~4 min)."""
    from lit_math.cli import build_cli

    config = CONFIGS / "arithmetic" / "add_cpu.yaml"
    cli = build_cli(["--config", str(config), "--trainer.default_root_dir", str(tmp_path), "--trainer.logger", "false",
                     "--trainer.enable_progress_bar", "false"], run=False)  # fmt: skip
    cli.trainer.fit(cli.model, cli.datamodule)
    assert float(cli.trainer.callback_metrics["val/valid/acc"]) > 0.95
