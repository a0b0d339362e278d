"""The corpora published with Lample & Charton (2020): their notation read into ours, lines that cannot be
represented counted by reason, the files trained on and evaluated through the CLI.

The fixture lines are written by hand in their format (`COUNT|PROBLEM<TAB>SOLUTION`), following their
`CharSPEnvironment.sympy_to_prefix` (sympy's tree, n-ary sums and products nested to the right, `INT+`/`INT-`
integers, rationals `div p q`, x^(1/2) `sqrt` but x^(-1/2) `pow x div INT- 1 INT+ 2`) and `clean_prefix`
(`Y`, `Y'`, `Y''`), plus the operators their vocabulary has and ours writes otherwise (cot, sec, ..., inv,
pow2, rac). Their own writer, run on these expressions once, wrote lines that read to the same expressions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from lit_math.data import IntegrationDataModule, ODEDataModule
from lit_math.data.corpus import Corpus
from lit_math.data.published import read_published
from lit_math.encoding.expressions import EncodeError
from lit_math.errors import ConfigError
from lit_math.tasks import IntegrationTask, ODETask
from lit_math.tasks.verify import Verdict

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "symbolic_mathematics"
x = sp.Symbol("x")
y, dy, ddy, c1, c2 = sp.symbols("y dy ddy c1 c2")
half, r = sp.Rational(1, 2), sp.Rational

# (f, F) of each line of prim_fwd.train, in order, written with sympy's own functions
FWD = [
    (x * sp.cos(x), sp.cos(x) + x * sp.sin(x)),
    (120 - 3 * x**2, -(x**3) + 120 * x),
    (x / 2 + 1 / x, x**2 / 4 + sp.log(x)),
    (1 / sp.sqrt(1 - x**2), sp.asin(x)),
    (-1 / sp.sqrt(1 - x**2), sp.acos(x)),
    (1 / (1 + x**2), sp.atan(x)),
    (sp.tan(x), -sp.log(sp.cos(x))),
    (sp.cosh(x), sp.sinh(x)),
    (sp.sinh(x), sp.cosh(x)),
    (sp.cosh(x) ** -2, sp.tanh(x)),
    (sp.sqrt(x), 2 * x ** r(3, 2) / 3),
    (1 / sp.sqrt(1 + x**2), sp.asinh(x)),
    (2 * x / sp.sqrt(x**4 + 2 * x**2), sp.acosh(1 + x**2)),
    (1 / (1 - x**2), sp.atanh(x)),
    (sp.pi * sp.exp(x), sp.pi * sp.exp(x)),
    (x**sp.E, x ** (1 + sp.E) / (1 + sp.E)),
    (sp.Abs(x), x * sp.Abs(x) / 2),
    (sp.exp(x) - 1, sp.exp(x) - x),
    (r(1, 307), x / 307),
    (-(sp.sin(x) ** -2), sp.cot(x)),
    (sp.sec(x) * sp.tan(x), sp.sec(x)),
    (-sp.cot(x) * sp.csc(x), sp.csc(x)),
    (-1 / (1 + x**2), sp.acot(x)),
    (-(sp.csch(x) ** 2), sp.coth(x)),
    (-sp.sech(x) * sp.tanh(x), sp.sech(x)),
    (-sp.coth(x) * sp.csch(x), sp.csch(x)),
    (1 / (x**2 * sp.sqrt(1 - x**-2)), sp.asec(x)),
    (-1 / (x**2 * sp.sqrt(1 - x**-2)), sp.acsc(x)),
    (1 / (1 - x**2), sp.acoth(x)),
    (2 * x / sp.sqrt(3 + x**4 + 4 * x**2), sp.asech(1 / (2 + x**2))),
    (-1 / (x**2 * sp.sqrt(1 + x**-2)), sp.acsch(x)),
    (x**2, x**3 / 3),
    (x**4, x**5 / 5),
    (x**5, x**6 / 6),
    (1 / x, sp.log(sp.Abs(x))),
    (x ** r(1, 3), r(3, 4) * x ** r(4, 3)),
]
REWRITTEN = {"cot", "sec", "csc", "acot", "asec", "acsc", "coth", "sech", "csch", "acoth", "asech", "acsch"}
REWRITTEN |= {"pow2", "pow4", "pow5", "inv", "rac"}


def same_function(a, b):
    """Equal at every point of a grid where both are real (at least three such points)."""
    real = 0
    for point in (-3.3, -1.7, -0.6, -0.2, 0.3, 0.7, 1.9, 2.6):
        u, v = complex(a.evalf(30, subs={x: point})), complex(b.evalf(30, subs={x: point}))
        if abs(u.imag) < 1e-12 and abs(v.imag) < 1e-12:
            real += 1
            if abs(u - v) > 1e-9 * (1 + abs(u)):
                return False
    return real >= 3


def rows(read):
    """(problem ids, solution ids) of each line read."""
    po, so = read.problem_offsets, read.solution_offsets
    return [(read.problems[po[i] : po[i + 1]], read.solutions[so[i] : so[i + 1]]) for i in range(len(po) - 1)]


def test_every_operator_reads_as_the_expression_it_spells_and_verifies():
    task = IntegrationTask()
    read = read_published(FIXTURES / "prim_fwd.train", task)
    lines = (FIXTURES / "prim_fwd.train").read_text().splitlines()
    assert read.lines == len(lines) == len(FWD) and not read.rejected
    words = {w for line in lines for w in line.split("|", 1)[1].split()}
    assert words >= REWRITTEN | {"add", "sub", "mul", "div", "pow", "sqrt", "exp", "ln", "abs", "pi", "E"}
    assert words >= {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh"}
    for line, (problem, solution), (f, F) in zip(lines, rows(read), FWD, strict=True):
        got_f, got_F = task.expression(problem), task.expression(solution)
        if REWRITTEN.isdisjoint(line.split()):  # the same tree, so the same sympy expression
            assert (got_f, got_F) == (f, F), line
        else:  # 1/tan(x) for cot(x): equal as functions
            assert same_function(got_f, f) and same_function(got_F, F), line
        assert task.verify(got_f, got_F, 0) is Verdict.CORRECT, line


def test_lines_that_cannot_be_represented_are_counted_by_reason_with_their_first_line():
    read = read_published(FIXTURES / "prim_rejected.txt", IntegrationTask(max_len=10))
    # 26 lines, one blank: 25 read; the last one is kept
    assert read.lines == 25 and len(read.problem_offsets) == 2
    assert dict(read.rejected) == {"malformed": 15, "unknown_operator": 3, "unknown_symbol": 5, "too_long": 1}
    first = {reason: number for reason, (_, number, _) in read.first.items()}
    assert first == {"malformed": 1, "unknown_operator": 13, "unknown_symbol": 16, "too_long": 22}
    assert "prim_rejected.txt:22: too_long" in read.describe()
    # the same line is kept when it fits
    assert read_published(FIXTURES / "prim_rejected.txt", IntegrationTask()).rejected["too_long"] == 0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1|sub Y' add x\tx", "malformed"),  # an operand missing
        ("1|sub Y' x x\tx", "malformed"),  # a token after a whole expression
        ("1|sub Y' mul INT+ x\tx", "malformed"),  # a sign without digits
        ("1|sub Y' add 1 x\tx", "malformed"),  # a digit without a sign
        ("1|sub Y' mul INT+ 0 5 x\tx", "malformed"),  # a leading zero
        ("1|sub Y' mul INT- 0 x\tx", "malformed"),  # minus zero
        ("1|sub Y x\tx", "malformed"),  # not an integration problem (their derivative task)
        ("1|sub Y' x\t", "malformed"),  # an empty side
        ("1|sub Y' cot\tx", "malformed"),  # an operator to rewrite, without its operand
        ("1|sub Y' sign x\tabs x", "unknown_operator"),
        ("1|sub Y' h x x x\tx", "unknown_operator"),
        ("1|sub Y' exp x\tINT 1", "unknown_symbol"),  # a balanced-base integer
        ("1|sub Y' t\tmul t x", "unknown_symbol"),
    ],
)
def test_each_defect_has_its_reason(tmp_path, line, reason):
    path = tmp_path / "one.txt"
    path.write_text(f"1|sub Y' exp x\texp x\n{line}\n")
    read = read_published(path, IntegrationTask())
    assert dict(read.rejected) == {reason: 1} and read.first[reason][1] == 2


def test_ode_constants_become_ours_and_wrong_counts_are_rejected():
    task = ODETask(order=1)
    read = read_published(FIXTURES / "ode1.train", task)
    assert dict(read.rejected) == {"unknown_symbol": 3}  # two constants, none, the variable y
    expected = [(dy - y, c1 * sp.exp(x)), (x * dy - y, c1 * x), (dy + 2 * x * y, c1 * sp.exp(-(x**2)))]
    for (problem, solution), pair in zip(rows(read), expected, strict=True):
        assert (task.expression(problem), task.expression(solution)) == pair  # a8 and a0 are both c1
        assert task.verify(*pair, 0) is Verdict.CORRECT
    task = ODETask(order=2)
    read = read_published(FIXTURES / "ode2.train", task)
    expected = [(ddy + y, c1 * sp.sin(x) + c2 * sp.cos(x)), (ddy - y, c1 * sp.exp(x) + c2 * sp.exp(-x))]
    for (problem, solution), pair in zip(rows(read), expected, strict=True):
        assert (task.expression(problem), task.expression(solution)) == pair
        assert task.verify(*pair, 0) is Verdict.CORRECT


THEIRS = {"+": "INT+", "-": "INT-", "y": "Y", "dy": "Y'", "ddy": "Y''", "c1": "a8", "c2": "a9"}


@pytest.mark.parametrize("task", [IntegrationTask(max_ops=8), ODETask(order=2, max_ops=8)], ids=["integration", "ode"])
def test_random_expressions_written_in_their_notation_read_back_to_our_tokens(task, tmp_path):
    """Our own tokens of random trees, rewritten word for word in theirs: reading gives our tokens back."""
    rng = np.random.default_rng(0)
    lines, ours = [], []
    while len(lines) < 150:
        try:
            tokens = task.codec.encode(task.sampler.sample(rng))
        except EncodeError:  # infinities, complex numbers
            continue
        theirs = " ".join(THEIRS.get(t, t) for t in tokens)
        head = "sub Y' " if isinstance(task, IntegrationTask) else ""
        if isinstance(task, ODETask):  # a solution holds each constant, the equation none
            problem, solution = "add Y'' Y", theirs
            keep = {"c1", "c2"} <= set(tokens)
        else:
            problem, solution = theirs, theirs
            keep = True
        lines.append(f"{len(lines)}|{head}{problem}\t{solution}")
        ours.append((tokens, keep))
    path = tmp_path / "random.train"
    path.write_text("\n".join(lines) + "\n")
    read = read_published(path, task)
    expected = [tokens for tokens, keep in ours if keep]
    assert read.lines == 150 and sum(read.rejected.values()) == 150 - len(expected)
    assert [task.vocabulary.words(solution) for _, solution in rows(read)] == expected


def test_a_file_in_neither_format_is_refused_at_its_first_line(tmp_path):
    binary = tmp_path / "model.pth"
    binary.write_bytes(b"\x80\x02\x00PK\x03\x04" * 100)
    with pytest.raises(ConfigError, match=r"model.pth:1: .*neither format"):
        read_published(binary, IntegrationTask())
    int2int = tmp_path / "gcd.txt"  # pairs, but not of their notation
    int2int.write_text("+ 1 0 + 3 2\t+ 2\n+ 6 + 9\t+ 3\n")
    with pytest.raises(ConfigError, match=r"no line of .*gcd.txt could be read for the integration task"):
        read_published(int2int, IntegrationTask())
    with pytest.raises(ConfigError, match="could be read for the ode task"):  # integration data for ODEs
        read_published(FIXTURES / "prim_fwd.train", ODETask())
    with pytest.raises(ConfigError, match="no such file or folder"):
        read_published(tmp_path / "missing.train", IntegrationTask())
    with pytest.raises(ConfigError, match=r"neither a lit-math corpus .* nor a folder of published"):
        read_published(tmp_path, IntegrationTask())


def test_a_published_corpus_streams_without_its_evaluation_problems(tmp_path):
    folder = tmp_path / "prim_fwd"
    folder.mkdir()
    for suffix in ("train", "valid", "test"):
        shutil.copy(FIXTURES / f"prim_fwd.{suffix}", folder)
    # a training line repeats a test problem: it is held out
    (folder / "prim_fwd.train").write_text(
        (FIXTURES / "prim_fwd.train").read_text() + "2|sub Y' ln x\tmul x add ln x INT- 1\n"
    )
    data = IntegrationDataModule(
        source=str(folder),
        eval_files={"valid": str(folder / "prim_fwd.valid"), "test": str(folder / "prim_fwd.test")},
        epoch_size=16,
        batch_size=8,
    )
    assert {name: len(p["problem"]) for name, p in data.eval_problems.items()} == {"valid": 3, "test": 2}
    corpus = Corpus(data.source, data.task, data.held_out)  # the folder's .train file only
    # 1/(1 - x**2) is the problem of two lines (atanh, acoth): the first is kept
    assert (corpus.lines, corpus.duplicates, corpus.held_out, len(corpus)) == (37, 1, 1, 35)
    assert "read from 37 published lines, none rejected" in corpus.describe()
    test = data.eval_problems["test"]
    assert data.task.expression(test["problem"][0]) == sp.log(x)


def test_eval_files_are_checked_when_the_data_is_made(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        IntegrationDataModule(eval_files={"valid": str(tmp_path / "nope.valid")})
    with pytest.raises(ConfigError, match="at least one file"):
        ODEDataModule(eval_files={})


def test_the_published_files_train_and_evaluate_through_the_cli(tmp_path, run_main):
    config = tmp_path / "fwd.yaml"
    data = {
        "source": str(FIXTURES / "prim_fwd.train"),
        "eval_files": {"valid": str(FIXTURES / "prim_fwd.valid"), "test": str(FIXTURES / "prim_fwd.test")},
        "max_len": 64,
        "epoch_size": 16,
        "batch_size": 8,
        "num_workers": 0,
    }
    model = {"d_model": 32, "n_enc_layers": 1, "n_dec_layers": 1, "n_heads": 4}
    trainer = {"max_epochs": 1, "accelerator": "cpu", "logger": False, "enable_progress_bar": False}
    spec = {"class_path": "IntegrationDataModule", "init_args": data}
    config.write_text(json.dumps({"trainer": trainer, "model": model, "data": spec}))
    code, err = run_main("fit", "--config", config, "--trainer.default_root_dir", tmp_path)
    assert code == 0, err[-3000:]
    checkpoint = next(tmp_path.rglob("last.ckpt"))
    code, err = run_main("validate", "--ckpt_path", checkpoint, "--model.beam_size", "2")
    assert code == 0, err[-3000:]
    for name in ("valid", "test"):
        assert f"val/{name}/acc" in run_main.out  # scored by the verifier, beam 2
    code, err = run_main("translate", "--ckpt", checkpoint, "x*cos(x)")
    assert code == 0, err[-3000:]
    binary = tmp_path / "model.pth"
    binary.write_bytes(b"\x80\x02\x00PK\x03\x04" * 100)
    code, err = run_main("fit", "--config", config, "--data.source", binary, "--trainer.default_root_dir", tmp_path)
    assert code == 2 and "model.pth:1: not UTF-8" in err and "neither format" in err and "Traceback" not in err


def test_a_huge_line_is_skipped_in_bounded_pieces_and_counted(tmp_path):
    path = tmp_path / "huge.train"
    with path.open("wb") as out:
        out.write(
            b"1|sub Y' exp x\texp x\n2|sub Y' " + b"add x " * 1_000_000 + b"x\tx\n3|sub Y' sin x\tmul INT- 1 cos x\n"
        )
    read = read_published(path, IntegrationTask())
    assert read.lines == 3 and len(read.problem_offsets) == 3
    assert dict(read.rejected) == {"malformed": 1} and "longer than 100,000 bytes" in read.first["malformed"][2]


PUBLISHED_CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "integration" / "published"


def _on_fixtures(text: str) -> str:
    """A published config with its corpus paths on the fixtures (the real ones are gigabytes, not shipped)."""
    for mode in ("fwd", "bwd", "ibp"):
        for split in ("train", "valid", "test"):
            text = text.replace(f"data/prim_{mode}.{split}", str(FIXTURES / f"prim_fwd.{split}"))
    return text.replace("configs/integration/", str(PUBLISHED_CONFIGS.parent) + "/")


@pytest.mark.parametrize("name", ["fwd", "bwd", "ibp", "fwd_bwd"])
def test_the_paper_scale_configs_read_the_published_corpora_with_the_papers_model(name, tmp_path):
    from lit_math.cli import build_cli

    text = (PUBLISHED_CONFIGS / f"{name}.yaml").read_text()
    for mode in name.split("_"):
        assert f"source: data/prim_{mode}.train" in text and f"data/prim_{mode}.test" in text
    config = tmp_path / f"{name}.yaml"
    config.write_text(_on_fixtures(text))
    cli = build_cli(["--config", str(config), "--trainer.accelerator", "cpu"], run=False)
    model = {k: cli.model.hparams[k] for k in ("d_model", "n_enc_layers", "n_dec_layers", "n_heads")}
    assert model == {"d_model": 512, "n_enc_layers": 6, "n_dec_layers": 6, "n_heads": 8}
    members = getattr(cli.datamodule, "member_data", {name: cli.datamodule})
    assert [data.task.mode for data in members.values()] == name.split("_")
    assert all(
        (data.task.max_ops, data.task.max_len, data.source) == (15, 512, str(FIXTURES / "prim_fwd.train"))
        for data in members.values()
    )
    assert any("textbook" in (data.eval_files or {}) for data in members.values())
