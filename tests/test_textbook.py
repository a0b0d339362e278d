"""Integrals written by people (issue 15): the shipped textbook set, typed evaluation files, and a verifier
that accepts every right pair of the set and rejects every near miss."""

import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from bench.verifier import TEXTBOOK, textbook_pairs, wrong_antiderivatives
from lit_math.data import IntegrationDataModule, ODEDataModule
from lit_math.data.typed import read_typed
from lit_math.encoding import Vocabulary
from lit_math.errors import ConfigError
from lit_math.tasks import IntegrationTask
from lit_math.tasks.base import padded_rows
from lit_math.tasks.integration import X
from lit_math.tasks.verify import Verdict, check_antiderivative, numerically_zero

from .helpers import untrained_checkpoint

PAIRS = textbook_pairs()
SLOW_MACHINE = 10.0
"""The verifier's time limit in these tests: they check verdicts, not speed (bench/verifier.py measures it)."""


def test_the_set_covers_the_tables():
    assert len(PAIRS) >= 150
    functions = {type(a) for f, _ in PAIRS for a in sp.preorder_traversal(f) if isinstance(a, sp.Function)}
    for family in (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.asin, sp.acos, sp.atan, sp.sinh, sp.cosh, sp.tanh):
        assert family in functions, family
    assert {sp.asinh, sp.acosh, sp.atanh} <= functions


@pytest.mark.parametrize("f,F", PAIRS, ids=[str(f) for f, _ in PAIRS])
def test_every_textbook_pair_is_verified(f, F):
    assert check_antiderivative(f, F, X, seconds=SLOW_MACHINE) is Verdict.CORRECT


@pytest.mark.parametrize("f,F", PAIRS, ids=[str(f) for f, _ in PAIRS])
def test_every_near_miss_is_rejected(f, F):
    wrong = wrong_antiderivatives(F)
    assert {kind: check_antiderivative(f, G, X, seconds=SLOW_MACHINE) for kind, G in wrong.items()} == {
        kind: Verdict.WRONG for kind in wrong
    }


@pytest.mark.parametrize(
    "f,wrong",
    [
        (X**100, X**101 / 101 + X),  # the residue is the constant 1, hidden under |f| ~ 1e70 at x ~ 5
        (X**100, (X**101 + 101 * X) / 101),  # the same, written so that sympy does not cancel it at once
        (sp.exp(-(X**2) - 230) * X, -sp.exp(-(X**2) - 230)),  # 2F of an integrand below 1e-100 everywhere
        (sp.sqrt(3 - X) * sp.sqrt(X - 2), X),  # real on [2, 3] only
    ],
)
def test_errors_the_previous_verifier_accepted_or_could_not_see(f, wrong):
    assert check_antiderivative(f, wrong, X) is Verdict.WRONG


@pytest.mark.parametrize(
    "f,F",
    [  # real on [2, 3] (the previous check found it for half of these seeds) and on [2, 2.1] (for none)
        (sp.sqrt(3 - X) * sp.sqrt(X - 2), (2 * X - 5) * sp.sqrt(3 - X) * sp.sqrt(X - 2) / 4 + sp.asin(2 * X - 5) / 8),
        (
            sp.sqrt(21 - 10 * X) * sp.sqrt(10 * X - 20),
            (20 * X - 41) * sp.sqrt(21 - 10 * X) * sp.sqrt(10 * X - 20) / 40 + sp.asin(20 * X - 41) / 80,
        ),
    ],
)
def test_the_numeric_check_finds_the_points_of_a_narrow_real_domain(f, F):
    for seed in range(10):
        assert numerically_zero(sp.diff(F, X) - f, f, [X], np.random.default_rng(seed)) is True
        assert numerically_zero(sp.diff(2 * F, X) - f, f, [X], np.random.default_rng(seed)) is False


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_typed_file_keeps_every_line_in_the_denominator(tmp_path):
    path = write(
        tmp_path / "mine.txt",
        "# my integrals\n\n"
        "x*sin(x)\tsin(x) - x*cos(x)  # by parts\n"
        "erf(x)\n"  # a function outside the vocabulary
        "x**2\tx**2\n"  # a wrong reference: the problem is kept, the reference is not used
        + " + ".join(f"x**{k}" for k in range(2, 40))  # more tokens than max_len
        + "\nsec(x)**2\n",
    )
    task = IntegrationTask(max_len=64)
    read = read_typed(Path(path), task)
    assert read.lines == 5
    assert dict(read.counts) == {
        "problems not encodable": 1,
        "references the verifier does not accept, not used": 1,
        "problems too long": 1,
    }
    assert read.first["problems not encodable"].startswith(f"{path}:4: 'erf(x)': unknown name 'erf'")
    assert read.first["problems too long"].startswith(f"{path}:6:")
    problems = read.problems
    assert task.expression(problems["problem"][4]) == 1 / sp.cos(X) ** 2  # sec, read as 1/cos
    assert [bool(row.any()) for row in problems["problem"]] == [True, False, True, False, True]
    assert [bool(row.any()) for row in problems["solution"]] == [True, False, False, False, False]
    # scored like any problem: the reference is right, sec's tan(x) verified, the other lines wrong
    answers = [sp.sin(X) - X * sp.cos(X), *[sp.tan(X)] * 4]
    hypotheses = padded_rows(
        [[*task.vocabulary.ids(task.codec.encode(a)), Vocabulary.eos_id] for a in answers], 16, np.int64
    )
    correct, outcomes = task.judge(problems, hypotheses)
    assert correct.tolist() == [True, False, False, False, True] and correct.mean() == 0.4
    assert outcomes["not_encodable"].tolist() == [False, True, False, True, False]
    assert task.describe(problems)[1] == {"problem": "(not encodable)", "solution": "(no reference)"}


def test_a_typed_file_is_told_apart_by_its_suffix(tmp_path):
    typed = write(tmp_path / "t.infix", "exp(x)\texp(x)\n1/x\tlog(abs(x))\n")
    data = IntegrationDataModule(max_len=64, eval_files={"textbook": typed}, eval_size=1)
    (problems,) = data.eval_problems.values()
    assert len(problems["problem"]) == 1 and data.task.expression(problems["problem"][0]) == sp.exp(X)
    published = write(tmp_path / "t.valid", "exp(x)\texp(x)\n")  # our infix, in a published corpus's name
    with pytest.raises(ConfigError, match=r"no line of .*t\.valid could be read .* go in a \.txt or \.infix file"):
        IntegrationDataModule(max_len=64, eval_files={"valid": published}).eval_problems  # noqa: B018


def test_typed_odes_are_equations_in_y_and_its_derivatives(tmp_path):
    path = write(tmp_path / "odes.txt", "y' - y = 0\tc1*exp(x)\nx*y' = y\tc1*x\ny' = 2*y\tc1*exp(x)\n")
    data = ODEDataModule(max_len=64, eval_files={"textbook": path})
    read = read_typed(Path(path), data.task)
    assert dict(read.counts) == {"references the verifier does not accept, not used": 1}
    problems = data.eval_problems["textbook"]
    dy, y = sp.symbols("dy y")
    assert data.task.expression(problems["problem"][1]) == X * dy - y
    assert [bool(row.any()) for row in problems["solution"]] == [True, True, False]


def test_the_shipped_set_reads_whole_through_its_config():
    from lit_math.data import data_from_spec
    from lit_math.data.config import load_data_config

    data = data_from_spec(load_data_config(TEXTBOOK.parent / "textbook.yaml"))
    problems = data.eval_problems["textbook"]
    assert len(problems["problem"]) == len(PAIRS)
    assert all(row.any() for row in problems["problem"])  # every line encoded (its reference: verified above)


def test_validate_and_cross_eval_show_a_typed_set(tmp_path, run_main, capsys):
    from lit_math.cross_eval import main as cross_eval

    task = {"family": "integration", "mode": "bwd", "max_ops": 5, "max_len": 64}
    checkpoint = untrained_checkpoint(task, tmp_path / "bwd.ckpt")
    typed = write(tmp_path / "few.txt", "x*cos(x)\tcos(x) + x*sin(x)\nerf(x)\nexp(2*x)\texp(2*x)/2\n1/x\n")
    config = tmp_path / "textbook.yaml"
    knobs = {"mode": "bwd", "max_ops": 5, "max_len": 64, "eval_files": {"t": typed}}
    config.write_text(json.dumps({"data": {"class_path": "lit_math.data.IntegrationDataModule", "init_args": knobs}}))
    code, err = run_main("validate", "--config", config, "--ckpt_path", checkpoint, "--trainer.logger", "false")
    assert code == 0, err[-3000:]
    assert "val/t/acc" in run_main.out and "val/t/not_encodable" in run_main.out
    capsys.readouterr()
    assert cross_eval(["--ckpt", str(checkpoint), "--data", str(config), "--accelerator", "cpu"]) == 0
    table = capsys.readouterr().out
    assert "| textbook/t |" in table and "(25.0% not encodable)" in table
