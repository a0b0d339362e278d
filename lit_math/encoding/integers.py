"""Integers as a sign token then base-B digits, most significant first (`+ 1 0` is 10 in base 10).

The scalar path is the specification; the batch path is the fast one the data stream uses, and the tests
hold them equal.
"""

from __future__ import annotations

from collections.abc import Sequence

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
        return self.encode_rows([values])

    def encode_rows(self, columns: Sequence[np.ndarray], width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row i is the encodings of columns[0][i], columns[1][i], ... one after the other.

        Returns local indices (N, longest row), right-padded with -1, and the row lengths. `width` is the
        most digits any value may have (a task knows it from its range, which saves a pass).
        A fixed number of numpy operations per call, whatever N: digits are computed right-aligned in a
        table, the sign is written just before each number's first digit, and one gather reads the rows.
        """
        values = np.stack([np.asarray(c, dtype=np.int64) for c in columns])  # (K, N)
        k, n = values.shape
        mag = np.abs(values)
        top = int(mag.max(initial=0))
        width = width or self.n_digits(top)
        if top >= self.base**width:
            raise ValueError(f"{top} has more than width={width} digits in base {self.base}")
        powers = self.base ** np.arange(width - 1, -1, -1, dtype=np.int64)
        n_digits = np.searchsorted(powers[-2::-1], mag, side="right") + 1  # (K, N): 1 + #{B^j <= |v|, j >= 1}
        table = np.empty((k, n, width + 1), dtype=np.int64)
        prefix = mag[..., None] // powers  # the value's leading digits, as a number; digit j = prefix_j - B prefix_j-1
        table[..., 1] = prefix[..., 0]
        table[..., 2:] = prefix[..., 1:] - self.base * prefix[..., :-1]
        table[..., 1:] += self.DIGIT0
        starts = np.arange(k * n).reshape(k, n) * (width + 1) + (width - n_digits)  # where each number begins
        flat = table.reshape(-1)
        flat[starts] = np.where(values < 0, self.MINUS, self.PLUS)
        lengths = n_digits + 1
        total = lengths.sum(axis=0)
        cols = np.arange(int(total.max(initial=1)))[None, :]
        index = starts[0][:, None] + cols
        done = lengths[0]
        for piece in range(1, k):
            index = np.where(cols >= done[:, None], starts[piece][:, None] + (cols - done[:, None]), index)
            done = done + lengths[piece]
        tokens = flat.take(np.minimum(index, flat.size - 1))
        return np.where(cols < total[:, None], tokens, -1), total

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
