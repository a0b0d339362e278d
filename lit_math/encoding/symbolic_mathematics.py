"""The prefix notation of facebookresearch/SymbolicMathematics (Lample & Charton 2020), read into ours.

Their corpora write sympy's tree in prefix as we do, with other words: integers `INT+ 1 2` / `INT- 3` (ours:
`+ 1 2`, `- 3`), the unknown function y as `Y`, `Y'`, `Y''`, ODE constants as coefficients `a0`..`a9`, and
operators of their own table, some of which our vocabulary writes otherwise (`cot u` is `pow tan u - 1` here).
A line is checked as the tree it spells (every operator with its arity, integers well formed, nothing left
over) and written in our tokens, so that decoding ours gives their expression; what cannot be represented
gets a reason instead, never an exception.

Why vectorised: the published corpora hold 23M to 88M lines. Words are mapped to codes in one C-level pass,
and the tree and integer checks are numpy over a chunk of lines; only the rare lines with an operator to
rewrite go through a Python walk of their tree first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from lit_math.encoding.sequences import take_rows

REASONS = ("malformed", "unknown_operator", "unknown_symbol", "too_long")
"""Why a line is not read, most serious first: a line with several defects gets the first."""
MALFORMED, UNKNOWN_OPERATOR, UNKNOWN_SYMBOL, TOO_LONG = range(len(REASONS))
KEPT = -1

BINARY_WORDS = ("add", "sub", "mul", "div", "pow", "rac", "derivative", "g")
UNARY_WORDS = ("inv", "pow2", "pow3", "pow4", "pow5", "sqrt", "exp", "ln", "abs", "sign", "f")
UNARY_WORDS += ("sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "acot", "asec", "acsc")
UNARY_WORDS += ("sinh", "cosh", "tanh", "coth", "sech", "csch", "asinh", "acosh", "atanh", "acoth", "asech", "acsch")
ARITY = {**dict.fromkeys(BINARY_WORDS, 2), **dict.fromkeys(UNARY_WORDS, 1), "h": 3}
"""Their operators (`CharSPEnvironment.OPERATORS`) and arities: an operator we cannot write still has its
arity, so the line's tree is checked all the same."""
SAME = ("add", "sub", "mul", "div", "pow", "sqrt", "exp", "ln", "abs", "sin", "cos", "tan", "asin", "acos", "atan")
SAME += ("sinh", "cosh", "tanh", "asinh", "acosh", "atanh")
"""Operators written with the same word and meaning in both notations."""
RECIPROCAL = {"cot": "tan", "sec": "cos", "csc": "sin", "coth": "tanh", "sech": "cosh", "csch": "sinh"}
"""f(u) = 1 / g(u): written `pow g u - 1`, as our codec writes 1/g(u)."""
ARC_OF_RECIPROCAL = {"acot": "atan", "asec": "acos", "acsc": "asin", "acoth": "atanh", "asech": "acosh"}
ARC_OF_RECIPROCAL["acsch"] = "asinh"
"""f(u) = g(1/u) on the reals, with sympy's branches (acot(u) = atan(1/u) for every real u != 0)."""
POWERS = {"inv": "-1", "pow2": "2", "pow3": "3", "pow4": "4", "pow5": "5"}
"""Their generator's shorthands (never written by `sympy_to_prefix`, but in their vocabulary)."""
REWRITTEN = frozenset((*RECIPROCAL, *ARC_OF_RECIPROCAL, *POWERS, "rac"))
"""Operators rewritten into their own notation's other words before the line is read: rac(u, v) = u^(1/v)."""
UNKNOWN_OPERATORS = frozenset(set(ARITY) - set(SAME) - REWRITTEN)
"""sign, bare derivatives and the functions f, g, h: no exact form in our vocabulary."""
SIGNS = {"INT+": "+", "INT-": "-"}
DIGITS = tuple(str(d) for d in range(10))
COEFFICIENTS = tuple(f"a{i}" for i in range(10))
UNKNOWN_SYMBOLS = ("I", "y", "z", "t", "INT", "FLOAT", "-", ".", "10^", "Y", "Y'", "Y''")
"""Their other words: the imaginary unit, other variables, integers in balanced or negative bases, floats, and
the unknown function where a side may not hold it. A side's own symbols (`Y'` in an ODE) override these."""

# token classes
NORMAL, DIGIT, SIGN, COEFFICIENT, OPERATOR_UNKNOWN, SYMBOL_UNKNOWN, NOT_A_WORD = range(7)


@dataclass(frozen=True)
class Side:
    """What one side of a line may hold: its symbols (their word -> our token) and how many ODE constants
    (their coefficients, renamed to `constants` in order of index) it must hold."""

    symbols: Mapping[str, str]
    constants: Sequence[str] = ()


@dataclass
class Translated:
    """Lines in our token ids: flat arrays with offsets (line i is `ids[offsets[i]:offsets[i + 1]]`) of the
    lines kept, and per input line its reason (index into REASONS) or KEPT."""

    problems: np.ndarray
    problem_offsets: np.ndarray
    solutions: np.ndarray
    solution_offsets: np.ndarray
    reasons: np.ndarray


class PrefixTranslator:
    """Their (problem, solution) prefix lines -> our token ids of `vocabulary` (a list of our tokens).

    `head` is what their problems start with and ours drop (`sub Y'`: the problem y' - f is our integrand f).
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        problem: Side,
        solution: Side,
        head: Sequence[str] = (),
        max_len: int = 512,
    ) -> None:
        self.head, self.max_len = list(head), max_len
        words = [*ARITY, *SIGNS, *DIGITS, *COEFFICIENTS, *UNKNOWN_SYMBOLS, "x", "pi", "E"]
        words += [w for side in (problem, solution) for w in side.symbols if w not in words]
        self.code = {word: i for i, word in enumerate(words)}
        self.not_a_word = len(words)  # the code of any other word
        ours = {token: i for i, token in enumerate(vocabulary)}
        delta = np.full(len(words) + 1, -1, dtype=np.int64)  # a leaf fills one open slot
        for word, arity in ARITY.items():
            delta[self.code[word]] = arity - 1
        delta[[self.code[d] for d in DIGITS]] = 0  # an integer's last digit is its leaf (see `_read_side`)
        delta[[self.code[s] for s in (*SIGNS, "INT")]] = 0  # INT: an integer of another base, unknown_symbol
        self.delta = delta
        self.starts_integer = np.zeros(len(words) + 1, dtype=bool)
        self.starts_integer[[self.code[s] for s in (*SIGNS, "INT")]] = True
        self.is_zero = np.zeros(len(words) + 1, dtype=bool)
        self.is_zero[self.code["0"]] = True
        self.is_minus = np.zeros(len(words) + 1, dtype=bool)
        self.is_minus[self.code["INT-"]] = True
        self.rewrite = np.zeros(len(words) + 1, dtype=bool)
        self.rewrite[[self.code[w] for w in REWRITTEN]] = True
        self.coefficient = np.full(len(words) + 1, -1, dtype=np.int64)
        self.coefficient[[self.code[a] for a in COEFFICIENTS]] = np.arange(len(COEFFICIENTS))
        self.sides = [self._table(side, ours) for side in (problem, solution)]

    def _table(self, side: Side, ours: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per word code: its class, our id (-1 where none), and the ids of the side's constants."""
        kind = np.full(len(self.code) + 1, SYMBOL_UNKNOWN, dtype=np.int8)
        ids = np.full(len(self.code) + 1, -1, dtype=np.int64)
        same = {**{w: w for w in (*SAME, "x", "pi", "E", *DIGITS)}, **SIGNS, **side.symbols}
        for word, token in same.items():
            if token in ours:
                kind[self.code[word]], ids[self.code[word]] = NORMAL, ours[token]
        kind[[self.code[d] for d in DIGITS]] = DIGIT
        kind[[self.code[s] for s in SIGNS]] = SIGN
        kind[[self.code[w] for w in UNKNOWN_OPERATORS]] = OPERATOR_UNKNOWN
        kind[[self.code[w] for w in REWRITTEN]] = NOT_A_WORD  # left only in a line whose tree is broken
        if side.constants:
            kind[[self.code[a] for a in COEFFICIENTS]] = COEFFICIENT
        kind[self.not_a_word] = NOT_A_WORD
        return kind, ids, np.array([ours[c] for c in side.constants], dtype=np.int64)

    # --- lines ---------------------------------------------------------------------------------------
    def translate(self, lines: Sequence[tuple[str, str]]) -> Translated:
        """Read (problem text, solution text) pairs in their notation."""
        problems, solutions = zip(*lines, strict=True) if lines else ((), ())
        head = " ".join(self.head)
        if head:
            headless = np.fromiter((not p.startswith(head + " ") for p in problems), dtype=bool, count=len(lines))
            problems = [p[len(head) + 1 :] for p in problems]
        else:
            headless = np.zeros(len(lines), dtype=bool)
        p_reason, p_ids, p_off = self._read_side(problems, self.sides[0])
        s_reason, s_ids, s_off = self._read_side(solutions, self.sides[1])
        p_reason[headless] = MALFORMED
        reasons = np.where(p_reason < 0, s_reason, np.where(s_reason < 0, p_reason, np.minimum(p_reason, s_reason)))
        keep = reasons == KEPT
        problem_ids, problem_offsets = take_rows(p_ids.astype(np.int16), p_off, keep)
        solution_ids, solution_offsets = take_rows(s_ids.astype(np.int16), s_off, keep)
        return Translated(problem_ids, problem_offsets, solution_ids, solution_offsets, reasons)

    def _codes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The word codes of all lines (flat), their lengths and offsets; the lines holding an operator of
        REWRITTEN (found by code, so that no line is looked at twice) are rewritten first."""
        words, lengths = split_lines(texts)
        n = len(texts)
        codes = np.fromiter(map(self.code.get, words, repeat(self.not_a_word)), dtype=np.int64, count=len(words))
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        redo = np.unique(np.repeat(np.arange(n), lengths)[self.rewrite[codes]])
        if len(redo):
            pieces, previous = [], 0
            for i in redo.tolist():
                line = rewritten(words[starts[i] : starts[i + 1]])
                pieces += [codes[previous : starts[i]], np.array([self.code.get(w, self.not_a_word) for w in line])]
                previous, lengths[i] = starts[i + 1], len(line)
            codes = np.concatenate([*pieces, codes[previous:]])
            np.cumsum(lengths, out=starts[1:])
        return codes, lengths, starts

    def _read_side(
        self, texts: Sequence[str], table: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per line its reason or KEPT, and all lines' ids (flat, with offsets)."""
        kind_of, ids_of, constants = table
        n = len(texts)
        codes, lengths, offsets = self._codes(texts)
        line = np.repeat(np.arange(n), lengths)
        kind = kind_of[codes]
        last = np.zeros(len(codes), dtype=bool)
        last[offsets[1:][lengths > 0] - 1] = True  # a line's last token

        def per_line(mask: np.ndarray) -> np.ndarray:
            return np.bincount(line[mask], minlength=n) > 0

        # integers: a sign, then digits without a leading zero (and no "- 0"); the last digit is the leaf
        digit, sign = kind == DIGIT, self.starts_integer[codes]
        after_digit = np.zeros(len(codes), dtype=bool)  # the next token of the same line is a digit
        after_digit[:-1] = digit[1:] & ~last[:-1]
        before_sign = np.zeros(len(codes), dtype=bool)  # the previous token of the same line is a sign
        before_sign[1:] = sign[:-1] & ~last[:-1]
        before_digit = np.zeros(len(codes), dtype=bool)
        before_digit[1:] = digit[:-1] & ~last[:-1]
        first_digit = digit & before_sign
        leading_zero = np.zeros(len(codes), dtype=bool)
        leading_zero[1:] = first_digit[:-1] & self.is_zero[codes[:-1]] & digit[1:] & ~last[:-1]
        minus_zero = np.zeros(len(codes), dtype=bool)
        minus_zero[:-1] = self.is_minus[codes[:-1]] & first_digit[1:] & self.is_zero[codes[1:]] & ~after_digit[1:]
        bad_integer = (digit & ~before_sign & ~before_digit) | (sign & ~after_digit) | leading_zero | minus_zero
        # the tree: every prefix of the line leaves a slot open, the whole line fills them all
        delta = self.delta[codes] - (digit & ~after_digit)
        filled = np.concatenate(([0], np.cumsum(delta)))
        before = filled[offsets[:-1]]
        open_after = 1 + filled[1:] - before[line]
        broken = np.zeros(n, dtype=bool)
        if len(codes):
            early = np.where(last, 1, open_after) < 1  # a tree complete (or over-full) before the line ends
            broken = per_line(early)
        broken |= (filled[offsets[1:]] - before != -1) | (lengths == 0)

        reasons = np.full(n, KEPT, dtype=np.int8)
        ids = ids_of[codes]
        coefficient = kind == COEFFICIENT
        if len(constants):  # an ODE solution: its coefficients, by index, are our constants c1, c2, ...
            index = self.coefficient[codes[coefficient]]
            present = np.zeros((n, len(COEFFICIENTS)), dtype=bool)
            present[line[coefficient], index] = True
            rank = np.cumsum(present, axis=1) - 1
            wrong_count = present.sum(axis=1) != len(constants)
            ids[coefficient] = constants[np.minimum(rank[line[coefficient], index], len(constants) - 1)]
            reasons[wrong_count] = UNKNOWN_SYMBOL
        reasons[lengths > self.max_len] = TOO_LONG
        reasons[per_line(kind == SYMBOL_UNKNOWN)] = UNKNOWN_SYMBOL
        reasons[per_line(kind == OPERATOR_UNKNOWN)] = UNKNOWN_OPERATOR
        reasons[per_line((kind == NOT_A_WORD) | bad_integer) | broken] = MALFORMED
        return reasons, ids, offsets


def split_lines(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The words of all texts, in one list, and each text's count. Their writer separates words by one space,
    so one `split` of the joined texts and a count of spaces per text do it in C; texts spaced otherwise (two
    spaces, an edge space, an empty text, any other white space, which is never printable) are split one by one."""
    joined = " ".join(texts)
    if joined.isprintable() and "  " not in joined and joined[:1] != " " and joined[-1:] != " ":
        words = joined.split()
        lengths = np.fromiter(map(str.count, texts, repeat(" ")), dtype=np.int64, count=len(texts)) + 1
        if len(words) == lengths.sum():
            return words, lengths
    split = [text.split() for text in texts]
    return list(chain.from_iterable(split)), np.fromiter(map(len, split), dtype=np.int64, count=len(texts))


def rewritten(tokens: list[str]) -> list[str]:
    """Their tokens with the operators of REWRITTEN written in their other words (`cot u` -> `pow tan u
    INT- 1`); a line whose tree is broken comes back as it is, and reading it then says so."""
    out: list[str] = []

    def walk(i: int) -> int:
        word = tokens[i]
        if word in SIGNS:  # an integer: the sign and its digits
            out.append(word)
            i += 1
            while i < len(tokens) and tokens[i] in DIGITS:
                out.append(tokens[i])
                i += 1
            return i
        if word in RECIPROCAL:
            out.extend(("pow", RECIPROCAL[word]))
            i = walk(i + 1)
            out.extend(("INT-", "1"))
            return i
        if word in ARC_OF_RECIPROCAL:
            out.extend((ARC_OF_RECIPROCAL[word], "pow"))
            i = walk(i + 1)
            out.extend(("INT-", "1"))
            return i
        if word in POWERS:
            out.append("pow")
            i = walk(i + 1)
            exponent = POWERS[word]
            out.extend(("INT-", "1") if exponent == "-1" else ("INT+", exponent))
            return i
        if word == "rac":  # rac u v = u ** (1 / v)
            out.append("pow")
            i = walk(i + 1)
            out.append("pow")
            i = walk(i)
            out.extend(("INT-", "1"))
            return i
        out.append(word)
        i += 1
        for _ in range(ARITY.get(word, 0)):
            i = walk(i)
        return i

    try:
        end = walk(0)
    except (IndexError, RecursionError):
        return tokens
    return out if end == len(tokens) else tokens
