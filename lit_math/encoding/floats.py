"""Floats at three significant digits, the encodings of "Linear algebra with transformers" (Charton 2022).

A number is sign x mantissa x 10^exponent with an integer mantissa in 100..999 (0 for zero):
P10 writes `+ 3 1 4 E-2` (5 tokens), P1000 `+ 314 E-2` (3), B1999 `N314 E-2` (2, the sign inside the
mantissa token), FP15 `F314E-2` (1 token, so a finite range of exponents). Matrices are `V<rows> V<cols>` then
their entries row by row. Encoding and decoding work on whole arrays: generation never loops over numbers in
Python, and a malformed answer decodes to "invalid", never to an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lit_math.errors import check_choice, check_int

ENCODINGS: dict[str, int] = {"P10": 5, "P1000": 3, "B1999": 2, "FP15": 1}
"""Tokens per number."""
DIGITS = 3


def to_mantissa_exponent(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed integer mantissas (100..999 in absolute value, 0 for zero) and exponents, values rounded to three
    significant digits: values ~= mantissa * 10 ** exponent.

    The rounding is that of the double itself, as printf's `%.2e` (LAWT's encoder) does it: -2.675 is stored as
    -2.67499999..., so it is -267 E-2. Vectorised, with an exact fallback for the values near a tie."""
    values = np.asarray(values, dtype=np.float64)
    size = np.abs(values)
    nonzero = size > 0
    if not np.isfinite(size).all():
        raise ValueError("to_mantissa_exponent needs finite values (FloatCodec checks them first)")
    exponent = np.zeros(values.shape, dtype=np.int64)
    exponent[nonzero] = np.floor(np.log10(size[nonzero])).astype(np.int64) - (DIGITS - 1)
    with np.errstate(over="ignore", invalid="ignore"):  # subnormals: 10 ** -326 is 0, caught below as out of range
        scaled = np.nan_to_num(size / 10.0 ** exponent.astype(np.float64), posinf=0)
    mantissa = np.rint(scaled).astype(np.int64)
    carry = mantissa >= 10**DIGITS  # 999.6 rounds to 1000: one digit more
    mantissa[carry] //= 10
    exponent[carry] += 1
    low = nonzero & (mantissa < 10 ** (DIGITS - 1))  # log10 rounding just below a power of ten
    scaled[low] = size[low] / 10.0 ** (exponent[low] - 1)
    mantissa[low] = np.rint(scaled[low]).astype(np.int64)
    exponent[low] -= 1
    near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6  # 999.5 too, before its carry
    for i in np.flatnonzero(near_tie):  # rare: the division above is inexact, printf-style rounding is not
        digits, power = f"{size.flat[i]:.{DIGITS - 1}e}".split("e")
        mantissa.flat[i], exponent.flat[i] = int(digits.replace(".", "")), int(power) - (DIGITS - 1)
    return np.where(values < 0, -mantissa, mantissa), exponent


def _is_exponent(words: Sequence[str], at: int) -> bool:
    return at < len(words) and words[at].startswith("E") and words[at][1:].lstrip("-").isdigit()


@dataclass(frozen=True)
class FloatCodec:
    """One of P10, P1000, B1999, FP15, with exponents in -max_exponent..max_exponent."""

    encoding: str = "P1000"
    max_exponent: int = 100
    """Largest exponent written (FP15's vocabulary grows with it: 1999 tokens per exponent)."""

    def __post_init__(self) -> None:
        check_choice("encoding", self.encoding, tuple(ENCODINGS))
        check_int("max_exponent", self.max_exponent, 1, 1000)
        object.__setattr__(self, "tokens", self._tokens())
        object.__setattr__(self, "per_number", ENCODINGS[self.encoding])

    def _tokens(self) -> list[str]:
        e = self.max_exponent
        exponents = [f"E{k}" for k in range(-e, e + 1)]
        if self.encoding == "P10":
            return ["+", "-", *(str(d) for d in range(10)), *exponents]
        if self.encoding == "P1000":
            return ["+", "-", *(str(m) for m in range(1000)), *exponents]
        if self.encoding == "B1999":
            return [f"N{m}" for m in range(-999, 1000)] + exponents
        return [f"F{m}E{k}" for k in range(-e, e + 1) for m in range(-999, 1000)]

    # --- numbers -> tokens ---------------------------------------------------------------------------
    def _parts(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mantissas, exponents, and which values can be written (finite, exponent in range)."""
        values = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(values)
        mantissa, exponent = to_mantissa_exponent(np.where(finite, values, 0.0))
        return mantissa, exponent, finite & (np.abs(exponent) <= self.max_exponent)

    def in_range(self, values: np.ndarray) -> np.ndarray:
        """Which values can be written: finite, with an exponent in range (after rounding)."""
        return self._parts(values)[2]

    def rounded(self, values: np.ndarray) -> np.ndarray:
        """The values as this encoding writes them (three significant digits), NaN where it cannot."""
        mantissa, exponent, ok = self._parts(values)
        return np.where(ok, mantissa * 10.0 ** exponent.astype(np.float64), np.nan)

    def token_indices(self, values: np.ndarray) -> np.ndarray:
        """Indices into `tokens` of each number's tokens: shape values.shape + (per_number,).
        Values out of range raise ValueError (callers reject such examples first, with `in_range`)."""
        values = np.asarray(values, dtype=np.float64)
        mantissa, exponent, ok = self._parts(values)
        if not ok.all():
            bad = values[~ok].ravel()[0]
            raise ValueError(f"{bad!r} is outside what {self.encoding} writes (|exponent| <= {self.max_exponent})")
        e_index = exponent + self.max_exponent
        if self.encoding == "FP15":
            return ((e_index * 1999) + mantissa + 999)[..., None]
        if self.encoding == "B1999":
            return np.stack([mantissa + 999, 1999 + e_index], axis=-1)
        sign = (mantissa < 0).astype(np.int64)
        size = np.abs(mantissa)
        if self.encoding == "P1000":
            return np.stack([sign, 2 + size, 1002 + e_index], axis=-1)
        digits = [(size // 10**k) % 10 for k in range(DIGITS - 1, -1, -1)]
        return np.stack([sign, *(2 + d for d in digits), 12 + e_index], axis=-1)

    def encode(self, value: float) -> list[str]:
        """The tokens of one number (the scalar form, the specification of `token_indices`)."""
        return [self.tokens[i] for i in self.token_indices(np.array([value]))[0]]

    # --- tokens -> numbers ---------------------------------------------------------------------------
    def read_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Per token index: its role in a number (0.. per_number - 1, or -1) and its value in that role."""
        n = len(self.tokens)
        role, value = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)
        e = self.max_exponent
        if self.encoding == "FP15":
            k = np.arange(n)
            role[:] = 0
            value[:] = k  # decoded below from the index
            return role, value
        if self.encoding == "B1999":
            role[:1999], value[:1999] = 0, np.arange(-999, 1000)
            role[1999:], value[1999:] = 1, np.arange(-e, e + 1)
            return role, value
        role[:2], value[:2] = 0, [1, -1]
        if self.encoding == "P1000":
            role[2:1002], value[2:1002] = 1, np.arange(1000)
            role[1002:], value[1002:] = 2, np.arange(-e, e + 1)
            return role, value
        role[2:12], value[2:12] = -2, np.arange(10)  # a digit: roles 1..3 by position
        role[12:], value[12:] = 4, np.arange(-e, e + 1)
        return role, value

    def decode_indices(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Numbers from token indices grouped by number, shape (..., per_number) -> values (...), and whether
        each group is a well-formed number (a wrong token in a place is malformed)."""
        indices = np.asarray(indices, dtype=np.int64)
        n = len(self.tokens)
        inside = (indices >= 0) & (indices < n)
        safe = np.where(inside, indices, 0)
        role, value = self.read_table()
        r, v = role[safe], value[safe]
        if self.encoding == "FP15":
            mantissa, exponent = v[..., 0] % 1999 - 999, v[..., 0] // 1999 - self.max_exponent
            valid = inside[..., 0]
        elif self.encoding == "B1999":
            mantissa, exponent = v[..., 0], v[..., 1]
            valid = inside.all(axis=-1) & (r[..., 0] == 0) & (r[..., 1] == 1)
        elif self.encoding == "P1000":
            mantissa, exponent = v[..., 0] * v[..., 1], v[..., 2]
            valid = inside.all(axis=-1) & (r[..., 0] == 0) & (r[..., 1] == 1) & (r[..., 2] == 2)
        else:
            size = v[..., 1] * 100 + v[..., 2] * 10 + v[..., 3]
            mantissa, exponent = v[..., 0] * size, v[..., 4]
            digits = (r[..., 1:4] == -2).all(axis=-1)
            valid = inside.all(axis=-1) & (r[..., 0] == 0) & digits & (r[..., 4] == 4)
        exponent = np.where(valid, exponent, 0)  # a misplaced token (a mantissa read as exponent) would overflow
        values = mantissa.astype(np.float64) * 10.0 ** exponent.astype(np.float64)
        return np.where(valid, values, np.nan), valid

    def read(self, words: Sequence[str], at: int = 0) -> tuple[float, int]:
        """The number whose tokens start at words[at], and the index after them (ValueError when malformed).
        P10 also reads zero as LAWT's encoder writes it, `+ 0 E0`, besides our fixed-width `+ 0 0 0 E0`."""
        end = at + self.per_number
        if self.encoding == "P10" and list(words[at + 1 : at + 2]) == ["0"] and _is_exponent(words, at + 2):
            return self.decode([words[at], "0", "0", "0", words[at + 2]]), at + 3
        return self.decode(list(words[at:end])), end

    def long_zeros(self, rows: np.ndarray, index: np.ndarray, pad: int) -> np.ndarray:
        """Rows of token ids with each zero written `+ 0 E<k>` (LAWT's P10) rewritten in our fixed width,
        `+ 0 0 0 E<k>`, so that numbers can be read in groups of `per_number`. `index` maps an id to its token
        index in this codec (-1 for other tokens); rows widen by two per such zero, padded with `pad`."""
        if self.encoding != "P10" or rows.shape[1] < 3:
            return rows
        role = index[rows]
        short = np.zeros(rows.shape, dtype=bool)
        short[:, :-2] = (role[:, :-2] >= 0) & (role[:, :-2] <= 1) & (role[:, 1:-1] == 2) & (role[:, 2:] >= 12)
        if not short.any():
            return rows
        before = np.zeros(rows.shape, dtype=np.int64)  # short zeros starting two or more tokens earlier
        before[:, 2:] = np.cumsum(short, axis=1)[:, :-2]
        n, width = rows.shape
        out = np.full((n, width + 2 * int(short.sum(axis=1).max())), pad, dtype=rows.dtype)
        r, m = np.nonzero(short)
        digit_zero = int(np.flatnonzero(index == 2)[0])
        for extra in (2, 3):  # the two digits inserted after each short zero's digit
            out[r, m + extra + 2 * before[r, m]] = digit_zero
        out[np.arange(n)[:, None], np.arange(width)[None, :] + 2 * before] = rows
        return out

    def decode(self, tokens: list[str]) -> float:
        """One number from its tokens; ValueError when they are not one well-formed number."""
        lookup = {token: i for i, token in enumerate(self.tokens)}
        if len(tokens) != self.per_number or any(t not in lookup for t in tokens):
            raise ValueError(f"{tokens} is not one {self.encoding} number ({self.per_number} tokens)")
        values, valid = self.decode_indices(np.array([[lookup[t] for t in tokens]]))
        if not valid[0]:
            raise ValueError(f"{tokens} is not a well-formed {self.encoding} number")
        return float(values[0])
