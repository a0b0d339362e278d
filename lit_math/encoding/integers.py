"""Integers as a sign token then base-B digits, most significant first (`+ 1 0` is 10 in base 10).

The scalar path is the specification; the batch path (`digit_table`, then `DigitTable.rows`) is the fast one the
data stream uses, and the tests hold them equal.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lit_math.errors import check_int

MIN_BASE = 2
MAX_BASE = 100_000
INT64_MAX = int(np.iinfo(np.int64).max)


class DecodeError(ValueError):
    """A token sequence that is not the canonical encoding of an integer (scoring counts it as wrong)."""


class IntegerCodec:
    """Codec for one base. Its tokens are `+`, `-`, then the digits `0` .. `B-1`, in that order.

    Batch methods work in *local* indices (0 is `+`, 1 is `-`, 2 + d is digit d), so a task can place the
    codec's tokens anywhere in its vocabulary and shift by one offset.
    """

    PLUS, MINUS, DIGIT0 = 0, 1, 2

    def __init__(self, base: int) -> None:
        check_int("base", base, MIN_BASE, MAX_BASE)
        self.base = base
        self.tokens: list[str] = ["+", "-", *(str(d) for d in range(base))]
        self._digit = {str(d): d for d in range(base)}

    @functools.cache  # noqa: B019 (one codec per task, a handful of widths)
    def _powers(self, width: int) -> np.ndarray:
        """B^0, B^1, ..., B^(width-1)."""
        if self.base ** (width - 1) > INT64_MAX:
            raise ValueError(f"{width} base-{self.base} digits exceed int64")
        return self.base ** np.arange(width, dtype=np.int64)

    def n_digits(self, n: int) -> int:
        """Number of digits of |n| (1 for 0)."""
        n, count = abs(int(n)), 1
        while n >= self.base:
            n //= self.base
            count += 1
        return count

    def encode(self, n: int) -> list[str]:
        n = int(n)
        sign, n = ("-", -n) if n < 0 else ("+", n)
        digits = []
        while True:
            n, d = divmod(n, self.base)
            digits.append(str(d))
            if n == 0:
                break
        return [sign, *reversed(digits)]

    def decode(self, tokens: Sequence[str]) -> int:
        """Inverse of `encode`; anything `encode` cannot produce raises `DecodeError`."""
        if len(tokens) < 2:
            raise DecodeError(f"an integer needs a sign and at least one digit, got {list(tokens)}")
        sign, digits = tokens[0], tokens[1:]
        if sign not in ("+", "-"):
            raise DecodeError(f"an integer starts with '+' or '-', got {sign!r}")
        value = 0
        for t in digits:
            d = self._digit.get(t)
            if d is None:
                raise DecodeError(f"{t!r} is not a base-{self.base} digit")
            value = value * self.base + d
        if len(digits) > 1 and digits[0] == "0":
            raise DecodeError(f"leading zero in {list(tokens)}")
        if sign == "-" and value == 0:
            raise DecodeError("zero is written '+ 0', not '- 0'")
        return -value if sign == "-" else value

    def encode_batch(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encode int64 `values` at once: (local indices, shape (N, width), right-padded with -1; lengths)."""
        return self.digit_table(np.asarray(values, dtype=np.int64)[None, :]).rows([0])

    def digit_table(self, values: np.ndarray, width: int | None = None, offset: int = 0) -> DigitTable:
        """The tokens of a (K, N) int64 array of values, ready to be read into rows (see `DigitTable`).

        `width` is the most digits a value may have (a task knows it from its range, which saves a pass);
        `offset` is added to every local index (the vocabulary id of `+`, to get ids directly).
        A few numpy operations per digit position, none per example: batch generation is bound by numpy's
        per-call cost, so every operation saved here is throughput.
        """
        k, n = values.shape
        if int(values.min(initial=0)) == -INT64_MAX - 1:
            raise ValueError("-2**63 has no int64 magnitude; values must lie in -(2**63 - 1)..2**63 - 1")
        mag = np.abs(values)
        top = int(mag.max(initial=0))
        width = width or self.n_digits(top)
        powers = self._powers(width)
        if top >= int(powers[-1]) * self.base:
            raise ValueError(f"{top} has more than width={width} digits in base {self.base}")
        n_digits = np.searchsorted(powers, mag, side="right")  # #{j >= 0: B^j <= |v|}, at least 1 below
        np.maximum(n_digits, 1, out=n_digits)
        table = np.empty((k, n, width + 1), dtype=np.int64)
        digit0, rest = self.DIGIT0 + offset, mag
        for column in range(width, 1, -1):  # least significant first; one division by a scalar per position
            quotient = rest // self.base
            table[..., column] = rest + digit0 - self.base * quotient
            rest = quotient
        table[..., 1] = rest + digit0
        starts = np.arange(0, k * n * (width + 1), width + 1).reshape(k, n) + (width - n_digits)
        flat = table.reshape(-1)
        flat[starts] = (values < 0) + (self.PLUS + offset)  # MINUS is PLUS + 1
        return DigitTable(flat, starts, n_digits + 1)

    def decode_batch(self, local: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode rows of local indices (the first `lengths[i]` of row i): (values, valid mask).

        A row is valid exactly when `decode` would accept its tokens and the value fits in int64;
        invalid rows get value 0.
        """
        local = np.asarray(local, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        n, width = local.shape
        cols = np.arange(width)[None, :]
        in_row = cols < lengths[:, None]
        is_digit = (local >= self.DIGIT0) & (local < self.DIGIT0 + self.base)
        digits_ok = np.all(is_digit | ~in_row | (cols == 0), axis=1)
        sign = local[:, 0] if width else np.full(n, -1)
        valid = (lengths >= 2) & (lengths <= width) & digits_ok & ((sign == self.PLUS) | (sign == self.MINUS))
        first = local[:, 1] if width > 1 else np.full(n, -1)
        valid &= ~((lengths > 2) & (first == self.DIGIT0))
        value = np.zeros(n, dtype=np.int64)
        for p in range(1, width):
            use = valid & (p < lengths)
            digit = np.where(use, local[:, p] - self.DIGIT0, 0)
            valid &= ~use | (value <= (INT64_MAX - digit) // self.base)  # else this digit would overflow
            value = np.where(use & valid, value * self.base + digit, value)
        valid &= ~((sign == self.MINUS) & (value == 0))
        value = np.where(valid & (sign == self.MINUS), -value, value)
        return np.where(valid, value, 0), valid


@dataclass(frozen=True)
class DigitTable:
    """Encoded numbers, each right-aligned in a row of a flat table with its sign just before its first digit,
    so that any concatenation of them is read with one gather (`rows`)."""

    flat: np.ndarray
    """Token indices; number (k, i) occupies flat[starts[k, i] : starts[k, i] + lengths[k, i]]."""
    starts: np.ndarray
    lengths: np.ndarray

    def rows(
        self, pieces: Sequence[int], end: int | None = None, pad: int = -1, begin: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row i: `begin`, then numbers (pieces[0], i), (pieces[1], i), ..., then `end`, padded with `pad`.

        Returns the (N, longest row) matrix and the number of tokens of each row (`begin` and `end` excluded).
        """
        total = sum(self.lengths[piece] for piece in pieces)
        first = int(begin is not None)
        cols = np.arange(-first, int(total.max(initial=1)) + int(end is not None))[None, :]
        index = self.starts[pieces[0]][:, None] + cols
        done = self.lengths[pieces[0]]
        for prev, piece in itertools.pairwise(pieces):  # from column `done` on, jump from prev's end to piece
            index += (cols >= done[:, None]) * (self.starts[piece] - self.starts[prev] - self.lengths[prev])[:, None]
            done = done + self.lengths[piece]
        out = np.where(cols < total[:, None], self.flat.take(index, mode="clip"), pad)
        if end is not None:
            out[np.arange(len(total)), total + first] = end
        if begin is not None:
            out[:, 0] = begin
        return out, total
