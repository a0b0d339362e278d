import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_math.encoding import DecodeError, IntegerCodec, Vocabulary
from lit_math.errors import ConfigError

bases = st.one_of(st.integers(2, 40), st.integers(41, 100_000))
int64s = st.integers(-(2**62), 2**62)


def test_literature_convention():
    codec = IntegerCodec(10)
    assert codec.encode(10) == ["+", "1", "0"]
    assert codec.encode(-305) == ["-", "3", "0", "5"]
    assert codec.encode(0) == ["+", "0"]
    assert IntegerCodec(30).encode(32) == ["+", "1", "2"]
    assert IntegerCodec(100_000).encode(10**10) == ["+", "1", "0", "0"]


@given(bases, int64s)
def test_scalar_round_trip(base, n):
    codec = IntegerCodec(base)
    tokens = codec.encode(n)
    assert len(tokens) == 1 + codec.n_digits(n)
    assert codec.decode(tokens) == n


@settings(max_examples=200)
@given(bases, st.lists(int64s, min_size=1, max_size=30))
def test_batch_path_equals_scalar_path(base, values):
    codec = IntegerCodec(base)
    local, lengths = codec.encode_batch(np.array(values, dtype=np.int64))
    for row, length, n in zip(local, lengths, values, strict=True):
        assert [codec.tokens[i] for i in row[:length]] == codec.encode(n)
        assert (row[length:] == -1).all()
    decoded, valid = codec.decode_batch(local, lengths)
    assert valid.all()
    assert decoded.tolist() == values


@settings(max_examples=300)
@given(st.sampled_from([2, 3, 10, 30, 1000]), st.lists(st.integers(0, 14), min_size=0, max_size=8))
def test_batch_decoding_accepts_exactly_what_scalar_decoding_accepts(base, raw):
    """Random local-index sequences: the batch path is valid exactly when `decode` does not raise and the value
    fits in int64 (its documented contract: 7 base-1000 digits can reach 10**19)."""
    codec = IntegerCodec(base)
    raw = [i % len(codec.tokens) for i in raw]
    try:
        expected = codec.decode([codec.tokens[i] for i in raw])
    except DecodeError:
        expected = None
    row = np.full((1, 9), -1)
    row[0, : len(raw)] = raw
    value, valid = codec.decode_batch(row, np.array([len(raw)]))
    fits = expected is not None and -(2**63) <= expected < 2**63
    assert bool(valid[0]) == fits
    if fits:
        assert value[0] == expected


@pytest.mark.parametrize(
    "tokens",
    [[], ["+"], ["1", "2"], ["+", "1", "+"], ["+", "0", "7"], ["-", "0"], ["+", "x"], ["+", "10"]],
)
def test_malformed_sequences_raise_decode_error(tokens):
    with pytest.raises(DecodeError):
        IntegerCodec(10).decode(tokens)


def test_batch_decoding_rejects_values_beyond_int64():
    codec = IntegerCodec(10)
    row = np.array([[0] + [3] * 25])
    _, valid = codec.decode_batch(row, np.array([26]))
    assert not valid[0]


@pytest.mark.parametrize("base", [1, 0, -3, 100_001, 2.5, True])
def test_bad_base_names_value_and_range(base):
    with pytest.raises(ConfigError, match=r"base must be an integer 2\.\.100000"):
        IntegerCodec(base)


def test_vocabulary_ids_and_round_trip():
    vocab = Vocabulary(IntegerCodec(10).tokens)
    assert vocab.tokens[:3] == ["<pad>", "<bos>", "<eos>"]
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2)
    assert vocab.words(vocab.ids(["<bos>", "+", "4", "2", "<eos>", "7"])) == ["+", "4", "2"]
    assert Vocabulary.from_list(vocab.to_list()) == vocab
    assert Vocabulary(IntegerCodec(11).tokens) != vocab
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(KeyError, match="'zz'"):
        vocab.id("zz")
