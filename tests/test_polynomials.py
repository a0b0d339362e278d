"""Polynomials: derivatives against numpy.polyder, real roots against numpy.roots, answers read generously."""

import numpy as np
import pytest

from lit_math.data import PolynomialDataModule
from lit_math.errors import ConfigError
from lit_math.tasks.polynomials import PolynomialTask


def ids(t, words):
    return np.array([[t.vocabulary.tokens.index(w) for w in [*words.split(), "<eos>"]]])


@pytest.mark.parametrize("operation", ["derivative", "roots"])
def test_answers_are_numpys_and_the_reference_scores_right(operation):
    t = PolynomialTask(operation=operation, degree=6, max_coefficient=20)
    problems = t.sample(np.random.default_rng(0), 300)
    rows = problems["coefficients"]
    degrees = t.classes(problems) if operation == "derivative" else None
    for i, row in enumerate(rows[:60]):
        top = int(np.flatnonzero(row)[-1])
        assert row[top] != 0 and 1 <= top <= 6
        if operation == "derivative":
            assert degrees[i] == top
            tokens = t.answer_tokens(problems, i)
            read = t.read_polynomial(tokens)
            expected = np.polyder(row[: top + 1][::-1])[::-1]
            assert read == {k: int(c) for k, c in enumerate(expected) if c}
        else:
            found = np.roots(row[: top + 1][::-1].astype(float))
            real = np.sort(found[np.abs(found.imag) < 1e-6].real)[::-1]
            read = t.read_roots(t.answer_tokens(problems, i))
            assert len(read) == len(real) and np.allclose(read, real, rtol=5e-3, atol=1e-9)
    source, target = t.encode(problems)
    assert source.shape[1] <= t.max_source_len and target.shape[1] <= t.max_target_len
    assert t.score(problems, target[:, 1:]).all()
    assert t.score(problems, np.roll(target[:, 1:], 1, axis=0)).mean() < 0.2


def test_a_derivative_is_right_in_any_arrangement_and_wrong_when_it_is_not_one():
    t = PolynomialTask(operation="derivative", degree=3)
    problems = {"coefficients": np.array([[1, -1, 3, 0]])}  # 3x^2 - x + 1: derivative 6x - 1
    assert t.render(problems, ids(t, "add mul + 6 x - 1")) == ["6*x - 1"]
    for right in ("add mul + 6 x - 1", "add - 1 mul + 6 x", "sub mul + 6 x + 1", "add mul + 3 x add mul + 3 x - 1"):
        assert t.score(problems, ids(t, right))[0], right
    for wrong in ("add mul + 6 x + 1", "mul + 6 x", "add mul + 6 pow x + 2 - 1"):
        assert not t.score(problems, ids(t, wrong))[0], wrong
    for malformed in ("add mul + 6 x", "mul + 6 x x", "pow x x", "+ 0 6", ""):
        right, kinds = t.judge(problems, ids(t, malformed))
        assert not right[0] and kinds["malformed"][0], malformed


def test_roots_are_scored_by_count_then_tolerance_and_read_from_what_people_type():
    t = PolynomialTask(operation="roots", degree=3)
    golden = t.parse_problem(["x^2 - x - 1"])
    assert golden["coefficients"].tolist() == [[-1, -1, 1, 0]]
    reference = t.encode(golden)[1][:, 1:]
    assert t.render(golden, reference) == ["1.62, -0.618"]
    words = [t.vocabulary.tokens[i] for i in reference[0] if i > 2]
    assert words[0] == "V2"
    one_root = ids(t, " ".join(["V1", *words[1:4]]))
    right, kinds = t.judge(golden, one_root)
    assert not right[0] and not kinds["root_count_right"][0] and not kinds["malformed"][0]
    none = t.parse_problem(["x**2 + 1"])
    assert t.render(none, t.encode(none)[1][:, 1:]) == ["no real root"] and t.classes(none).tolist() == [0]
    with pytest.raises(ConfigError, match=r"has degree 4; this model knows 1\.\.3"):
        t.parse_problem(["x^4"])
    with pytest.raises(ConfigError, match="coefficients must be integers"):
        t.parse_problem(["x^2/2"])
    with pytest.raises(ConfigError, match="is not a polynomial in x"):
        t.parse_problem(["sin(x)"])


def test_double_roots_are_drawn_again_and_counted():
    t = PolynomialTask(operation="roots", degree=2, max_coefficient=2)  # small coefficients: many double roots
    problems = t.sample(np.random.default_rng(3), 2000)
    assert problems["rejected"].sum() > 0
    for row in problems["coefficients"]:
        a, b, c = row[2], row[1], row[0]
        assert a == 0 or b * b - 4 * a * c != 0  # no double root kept


def test_the_data_module_serves_both_operations():
    for operation in ("derivative", "roots"):
        data = PolynomialDataModule(operation=operation, degree=3, epoch_size=64, batch_size=32, eval_size=40)
        data.trainer = None
        batch = next(iter(data.train_dataloader()))
        assert batch["source"].shape[0] == 32 and len(data.eval_problems["valid"]["coefficients"]) == 40


def test_translate_reads_a_polynomial_as_people_write_it(tmp_path, run_main):
    """The roots model answers `x^2 - x - 1` from the command line (a barely trained model: any reading)."""
    from lightning.pytorch.loggers import CSVLogger

    from lit_math.model import Seq2SeqModule

    from .helpers import TINY_MODEL, trainer

    data = PolynomialDataModule(operation="roots", degree=2, epoch_size=64, batch_size=32, eval_size=32)
    fit = trainer(tmp_path, max_epochs=1, logger=CSVLogger(tmp_path), enable_checkpointing=True)
    fit.fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)
    ckpt = next(tmp_path.rglob("*.ckpt"))
    code, err = run_main("translate", "--ckpt", ckpt, "x^2 - x - 1")
    assert code == 0, err
    lines = run_main.out.splitlines()
    assert lines[1].split()[:4] == ["source:", "add", "pow", "x"]  # x^2 - x - 1 in prefix notation
    assert lines[0] == "(malformed)" or lines[0] == "no real root" or "," in lines[0] or lines[0][0] in "-0123456789"
    code, err = run_main("translate", "--ckpt", ckpt, "x^3 - 1")
    assert code == 2 and "has degree 3; this model knows 1..2" in err


def test_nested_powers_are_refused_not_expanded():
    t = PolynomialTask(operation="derivative", degree=5)
    problems = {"coefficients": np.array([[1, 2, 0, 0, 0, 0]])}
    bomb = "pow pow pow add x + 1 + 2 0 + 2 0 + 2 0"  # (x + 1)^8000 if expanded
    right, kinds = t.judge(problems, ids(t, bomb))
    assert not right[0] and kinds["malformed"][0]
    garbage = np.array([[10**6, 2], [-5, 2], [3, 3]])  # unknown ids, and no EOS
    right, kinds = t.judge({"coefficients": np.repeat(problems["coefficients"], 3, axis=0)}, garbage)
    assert not right.any() and kinds["malformed"].all()
