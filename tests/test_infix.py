"""Typed expressions are read by our own grammar: what people write, and nothing that Python would run."""

import pytest
import sympy as sp

from lit_math.encoding.expressions import PrefixCodec
from lit_math.encoding.infix import MAX_CHARS, MAX_DEPTH, ParseError

x, y, dy, ddy = sp.symbols("x y dy ddy")
READER = PrefixCodec(("x",)).reader()
ODE_READER = PrefixCodec(("x", "y", "dy", "ddy")).reader({"y'": "dy", "y''": "ddy"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x*sin(x)", x * sp.sin(x)),
        ("exp(x)/(1+exp(x))", sp.exp(x) / (1 + sp.exp(x))),
        ("sqrt(1-x**2)", sp.sqrt(1 - x**2)),
        ("-x^2", -(x**2)),  # the sign binds looser than the power
        ("2^3^2", sp.Integer(512)),  # powers are right-associative
        ("x^-1", 1 / x),
        ("0.1*x", sp.Rational(1, 10) * x),  # decimals are exact
        ("e^x + pi + E", sp.exp(x) + sp.pi + sp.E),
        ("log(x) + arctan(x)", sp.log(x) + sp.atan(x)),
        ("sec(x) + csc(x) + cot(x)", 1 / sp.cos(x) + 1 / sp.sin(x) + 1 / sp.tan(x)),
        ("  x  +  1  ", x + 1),
        ("x - (x - (x - 1))", x - 1),
    ],
)
def test_reads_what_people_write(text, expected):
    assert sp.simplify(READER.read(text) - expected) == 0


def test_odes_read_primes_and_equations():
    assert ODE_READER.read("x*y' - y = 0", equation=True) == x * dy - y
    assert ODE_READER.read("y'' + y = x", equation=True) == ddy + y - x
    with pytest.raises(ParseError, match="one equation"):
        ODE_READER.read("y = x = 1", equation=True)
    with pytest.raises(ParseError, match="not an equation"):
        READER.read("x = 1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('touch pwned')", "'_' at character 1 is not part of the grammar"),
        ("x.__class__", "'.' at character 2"),
        ("lambda: x", "':' at character 7"),
        ("eval('x')", '"\'" at character 6'),
        ("exec", "unknown name 'exec' at character 1; known: variables x; constants pi"),
        ("getattr(x, 'y')", "','"),
        ("[x]", "'\\['"),
        ("x @ x", "'@'"),
        ("z + x", "unknown name 'z' at character 1"),
        ("x*cos(", "ends early"),
        ("cos x", "unexpected 'x' at character 5: expected '\\('"),
        ("2x", "2\\*x, not 2x"),
        ("(x + 1", "expected '\\)'"),
        ("１０*x", "'１' at character 1"),  # full-width digits are not digits here  # noqa: RUF001
        ("9^9^9", "larger than 1000"),
        ("(x+1)^100000", "larger than 1000"),
        pytest.param("1" * 200, "at most 100 digits", id="200-digits"),
        pytest.param("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), f"deeper than {MAX_DEPTH}", id="nested"),
        pytest.param("-" * 500 + "x", f"deeper than {MAX_DEPTH}", id="500-signs"),
        pytest.param("x+" * (MAX_CHARS // 2) + "x", "characters long", id="just-too-long"),
        pytest.param("x" * 1_000_000, "1,000,000 characters long; at most 10,000", id="a-megabyte"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_refuses_everything_else_with_where_and_why(text, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParseError, match=message) as error:
        READER.read(text)
    assert len(str(error.value)) < 300  # a megabyte of input is not echoed back
    assert not (tmp_path / "pwned").exists()
