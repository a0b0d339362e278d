"""Float encodings at three significant digits (P10, P1000, B1999, FP15): vocabularies, round trips, and
malformed sequences that decode to "invalid"."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_math.encoding.floats import ENCODINGS, FloatCodec, to_mantissa_exponent
from lit_math.errors import ConfigError


def test_the_papers_examples():
    assert FloatCodec("P10").encode(3.14159) == ["+", "3", "1", "4", "E-2"]
    assert FloatCodec("P1000").encode(3.14159) == ["+", "314", "E-2"]
    assert FloatCodec("B1999").encode(-3.14159) == ["N-314", "E-2"]
    assert FloatCodec("FP15", max_exponent=10).encode(3.14159) == ["F314E-2"]
    assert FloatCodec("P1000").encode(0.0) == ["+", "0", "E0"]
    assert FloatCodec("P1000").encode(999.7) == ["+", "100", "E1"]  # rounding carries into the exponent


@pytest.mark.parametrize(
    "encoding,max_exponent,size", [("P10", 100, 213), ("P1000", 100, 1203), ("B1999", 100, 2200), ("FP15", 10, 41979)]
)
def test_vocabulary_sizes(encoding, max_exponent, size):
    codec = FloatCodec(encoding, max_exponent)
    assert len(codec.tokens) == len(set(codec.tokens)) == size
    assert codec.per_number == ENCODINGS[encoding]


finite = st.floats(min_value=-1e30, max_value=1e30, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-30)


@settings(max_examples=300, deadline=None)
@given(finite, st.sampled_from(sorted(ENCODINGS)))
def test_round_trip_keeps_three_significant_digits(value, encoding):
    codec = FloatCodec(encoding, 40)
    decoded = codec.decode(codec.encode(value))
    assert abs(decoded - value) <= 0.005 * abs(value) * (1 + 1e-12)
    assert decoded == codec.decode(codec.encode(decoded))  # a decoded number is written as itself
    mantissa, _ = to_mantissa_exponent(np.array([value]))
    assert mantissa[0] == 0 if value == 0 else 100 <= abs(mantissa[0]) <= 999


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_batches_equal_the_scalar_form(encoding):
    codec = FloatCodec(encoding, 20)
    rng = np.random.default_rng(0)
    values = rng.standard_normal((30, 4)) * np.exp(rng.uniform(-20, 20, (30, 4)))
    indices = codec.token_indices(values)
    assert indices.shape == (30, 4, codec.per_number)
    for value, row in zip(values.ravel(), indices.reshape(-1, codec.per_number), strict=True):
        assert [codec.tokens[i] for i in row] == codec.encode(value)
    decoded, valid = codec.decode_indices(indices)
    assert valid.all() and np.allclose(decoded, values, rtol=0.005)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_malformed_numbers_decode_to_invalid(encoding):
    codec = FloatCodec(encoding, 10)
    rng = np.random.default_rng(1)
    garbage = rng.integers(-5, len(codec.tokens) + 5, (2000, codec.per_number))
    decoded, valid = codec.decode_indices(garbage)
    assert np.isnan(decoded[~valid]).all() and np.isfinite(decoded[valid]).all()
    if encoding != "FP15":  # every FP15 token in range is a number
        assert (~valid).sum() > 1000
    swapped = codec.token_indices(np.array([2.5]))[:, ::-1]  # the parts in the wrong order
    assert codec.per_number == 1 or not codec.decode_indices(swapped)[1][0]
    with pytest.raises(ValueError, match="is not one"):
        codec.decode(["E3"])


def test_out_of_range_values_are_told_apart():
    codec = FloatCodec("FP15", max_exponent=10)
    values = np.array([1.0, 3e13, -2e-13, np.inf, np.nan, 0.0])  # 3e13 is 300E11
    assert codec.in_range(values).tolist() == [True, False, False, False, False, True]
    with pytest.raises(ValueError, match="outside what FP15 writes"):
        codec.token_indices(values)
    with pytest.raises(ConfigError, match="encoding must be one of P10, P1000, B1999, FP15; got 'P100'"):
        FloatCodec("P100")


def test_rounding_is_that_of_the_double_as_lawt_writes_it():
    """-2.675 is stored as -2.67499999...: printf's %.2e (LAWT's encoder) writes -2.67, and so do we."""
    assert FloatCodec("P10").encode(-2.675) == ["-", "2", "6", "7", "E-2"]
    assert FloatCodec("P1000").encode(1.0625) == ["+", "106", "E-2"]  # an exact tie goes to the even digit
    assert FloatCodec("P1000").encode(0.125) == ["+", "125", "E-3"]


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=1e-300, max_value=1e300) | st.decimals("-100", "100", places=3).map(float))
def test_mantissas_are_correctly_rounded(value):
    mantissa, exponent = to_mantissa_exponent(np.array([value]))
    if value == 0:
        assert mantissa[0] == exponent[0] == 0
        return
    digits, power = f"{abs(value):.2e}".split("e")
    assert (abs(int(mantissa[0])), int(exponent[0])) == (int(digits.replace(".", "")), int(power) - 2)


def test_p10_reads_zero_as_lawt_writes_it():
    codec = FloatCodec("P10")
    assert codec.read("+ 0 E0".split()) == (0.0, 3)  # LAWT's spelling
    assert codec.read("+ 0 0 0 E0".split()) == (0.0, 5)  # ours (fixed width)
    assert codec.read("- 3 1 4 E-2 + 0 E0 + 1 0 0 E0".split(), 5) == (0.0, 8)
    with pytest.raises(ValueError):
        codec.read("+ 0 E".split())
    tokens = "V2 + 0 E0 - 3 1 4 E-2".split()  # ids: the codec's tokens after two others, V2 outside it
    index = np.full(len(codec.tokens) + 3, -1)
    index[3:] = np.arange(len(codec.tokens))
    ids = np.array([[2 if t == "V2" else 3 + codec.tokens.index(t) for t in tokens] + [1, 0, 0]])
    wide = codec.long_zeros(ids, index, pad=0)
    assert [codec.tokens[i - 3] if i >= 3 else i for i in wide[0]] == [
        2, "+", "0", "0", "0", "E0", "-", "3", "1", "4", "E-2", 1, 0, 0,
    ]  # fmt: skip
    assert codec.long_zeros(wide, index, pad=0) is wide  # nothing left to widen
