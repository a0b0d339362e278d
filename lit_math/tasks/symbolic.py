"""Symbolic families: problems and answers are expressions in prefix tokens, and a verifier scores the answers.

Problems travel as arrays of token ids (`problem`, `solution`, padded to `max_len`), so the training stream,
held-out exclusion, corpora and the model treat them like any numeric family; sympy appears only where pairs
are made and answers verified. Making a pair is one sympy step under a time limit, then cleaning (encodable,
within the length limit, not trivial); each rejected attempt has a reason, counted per accepted problem in
`rejected` so the counts travel with the batch from dataloader workers to the logger.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import symengine as se
import sympy as sp

from lit_math.encoding import Vocabulary
from lit_math.encoding.expressions import EncodeError, PrefixCodec
from lit_math.encoding.infix import ParseError
from lit_math.encoding.integers import DecodeError
from lit_math.errors import ConfigError, check_int, shown
from lit_math.tasks.base import Problems, Task, padded_rows
from lit_math.tasks.time_limit import TimeLimitExceeded, time_limit
from lit_math.tasks.trees import ExpressionSampler, to_symengine
from lit_math.tasks.verify import Verdict

IDS = np.int16
"""Token ids of stored problems (vocabularies are small): corpora and batches stay compact."""


class Rejection(enum.Enum):
    TIMEOUT = "timeout"
    """A sympy call ran out of time."""
    UNEVALUATED = "unevaluated"
    """sympy could not integrate (FWD, IBP) or solve for a constant (ODE)."""
    NOT_ENCODABLE = "not_encodable"
    """Complex, infinite or undefined values (or a problem complex everywhere), or functions outside the
    vocabulary."""
    TOO_LONG = "too_long"
    TRIVIAL = "trivial"
    """The problem does not involve what it should (x for an integral, y' for an ODE), or collapsed."""
    ERROR = "error"
    """sympy raised on the expression."""
    DUPLICATE = "duplicate"
    """The problem was already drawn in the same batch."""


REJECTIONS: tuple[Rejection, ...] = tuple(Rejection)
MAX_REJECTED_IN_A_ROW = 10_000
"""A task that never makes a usable problem (or a batch asking for more distinct problems than the task has)
would otherwise draw forever; the slowest usable settings reject a few hundred attempts in a row at most."""


@dataclass(frozen=True)
class Pair:
    problem: sp.Expr
    solution: sp.Expr
    problem_tokens: tuple[str, ...]
    solution_tokens: tuple[str, ...]


GENERATION_VERSION = 3
"""Raise it when a change makes the generators draw other pairs from the same seed: it keys cached
evaluation sets (with sympy's version, whose results change between releases)."""

REAL_CHECK_POINTS = np.random.default_rng(0).uniform(-10, 10, (16, 6))
"""Fixed points (one column per free symbol) where a kept problem must take a real, finite value at least once."""


def real_somewhere(expr: sp.Expr) -> bool:
    """Whether `expr` is real and finite at one of REAL_CHECK_POINTS: a problem complex everywhere (such as
    x / sqrt(-x**2 - 1)) has no real answer to learn or check.

    Evaluated by symengine in complex doubles, all points at once: sympy's `lambdify` wrote and compiled Python
    code per candidate (10 ms, a third of a BWD pair), and its mpmath could spend seconds on cosh(exp(exp(x)))
    outside any time limit. A value beyond the double range counts as not finite, as it did there."""
    symbols = sorted(expr.free_symbols, key=str) or [sp.Dummy()]  # symengine needs an argument
    function = se.Lambdify([to_symengine(s) for s in symbols], [to_symengine(expr)], real=False)
    with np.errstate(all="ignore"):
        values = np.asarray(function(REAL_CHECK_POINTS[:, : len(symbols)])).reshape(-1)
    real = np.isfinite(values) & (np.abs(values.imag) <= 1e-12 * (1 + np.abs(values)))
    return bool(real.any())


def encode_pair(codec: PrefixCodec, problem: sp.Expr, solution: sp.Expr, max_len: int) -> Pair | Rejection:
    """The pair in tokens, or why it cannot be kept (not encodable, too long, complex everywhere)."""
    try:
        problem_tokens, solution_tokens = codec.encode(problem), codec.encode(solution)
    except EncodeError:
        return Rejection.NOT_ENCODABLE
    if max(len(problem_tokens), len(solution_tokens)) > max_len:
        return Rejection.TOO_LONG
    if not real_somewhere(problem):
        return Rejection.NOT_ENCODABLE
    return Pair(problem, solution, tuple(problem_tokens), tuple(solution_tokens))


def timed_pair(
    make: Callable[[], tuple[sp.Expr, sp.Expr] | Rejection], codec: PrefixCodec, max_len: int, seconds: float
) -> Pair | Rejection:
    """Run a generator step `make` -> (problem, solution) under the time limit, then encode its pair."""
    try:
        with time_limit(seconds):
            made = make()
    except TimeLimitExceeded:
        return Rejection.TIMEOUT
    except Exception:  # sympy raises many kinds on random input
        return Rejection.ERROR
    return made if isinstance(made, Rejection) else encode_pair(codec, *made, max_len)


def token_key(ids: np.ndarray) -> int:
    """The identity of a problem from its token ids (no padding): 64 bits of a cryptographic hash."""
    digest = hashlib.blake2b(np.ascontiguousarray(ids, dtype=IDS).tobytes(), digest_size=8).digest()
    return int(np.frombuffer(digest, dtype=np.int64)[0])


def lengths(ids: np.ndarray) -> np.ndarray:
    """Tokens in each padded row."""
    return (ids != Vocabulary.pad_id).sum(axis=1)


@dataclass(frozen=True)
class SymbolicTask(Task):
    """Shared knobs of the symbolic families: the random expressions and the cleaning of the paper."""

    max_ops: int = 15
    """Operators of a random expression, uniform in 1..max_ops (the paper: 15)."""
    max_len: int = 512
    """Longest problem or solution in tokens (the paper: 512); longer pairs are rejected."""
    leaf_variable: float = 0.75
    """Share of leaves that are variables (x, or an ODE's constants); the others small integers."""
    max_leaf: int = 5
    """Integer leaves lie in -max_leaf..max_leaf, without 0."""
    operators: Mapping[str, float] | None = None
    """Operator weights, e.g. ``{add: 1, mul: 1, sin: 1}`` (default: the paper's)."""
    seconds: float = 1.0
    """Time limit of every sympy call, in generation and verification (the paper: 3 s for FWD)."""

    variables: ClassVar[tuple[str, ...]]
    """Symbols of the codec (problems and answers share one vocabulary)."""
    leaves: ClassVar[tuple[str, ...]] = ("x",)
    """Variables the expression sampler puts at leaves."""
    rejection_kinds: ClassVar[tuple[str, ...]] = tuple(r.value for r in REJECTIONS)
    distinct_in_batch: ClassVar[bool] = True
    equations: ClassVar[bool] = False
    """Whether a typed problem may be an equation `lhs = rhs` (read as lhs - rhs = 0)."""
    typed_names: ClassVar[dict[str, str]] = {}
    """Other names people type for the codec's variables (y' for dy)."""
    outcome_kinds: ClassVar[tuple[str, ...]] = tuple(
        v.value for v in (Verdict.MALFORMED, Verdict.TIMEOUT, Verdict.ERROR, Verdict.NOT_ENCODABLE)
    )

    def __post_init__(self) -> None:
        check_int("max_len", self.max_len, 4, 4096)
        if not 0 < self.seconds <= 3600:
            raise ConfigError(f"seconds is a time limit per sympy call, in (0, 3600]; got {self.seconds!r}")
        self.sampler  # noqa: B018 (checks the expression knobs)

    @functools.cached_property
    def codec(self) -> PrefixCodec:
        return PrefixCodec(self.variables)

    @functools.cached_property
    def sampler(self) -> ExpressionSampler:
        operators = None if self.operators is None else dict(self.operators)
        return ExpressionSampler(self.max_ops, operators, self.leaf_variable, self.max_leaf, variables=self.leaves)

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:  # type: ignore[override]
        return Vocabulary(self.codec.tokens)

    @property
    def max_source_len(self) -> int:  # type: ignore[override]
        return self.max_len + 1

    @property
    def max_target_len(self) -> int:  # type: ignore[override]
        return self.max_len + 2

    def config(self) -> dict[str, Any]:
        config = asdict(self)
        if config["operators"] is not None:
            config["operators"] = dict(config["operators"])
        return {"family": self.family, **config}

    # --- what each family defines --------------------------------------------------------------------
    @abstractmethod
    def make_pair(self, rng: np.random.Generator) -> Pair | Rejection:
        """One attempt at a (problem, solution) pair."""

    @abstractmethod
    def verify(self, problem: sp.Expr, answer: sp.Expr, seed: int) -> Verdict:
        """Whether `answer` solves `problem` (a verdict, never an exception)."""

    # --- sampling ------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        problems, solutions, seen = [], [], set()
        rejected = np.zeros((n, len(REJECTIONS)), dtype=np.int32)
        pending = np.zeros(len(REJECTIONS), dtype=np.int32)
        while len(problems) < n:
            if pending.sum() == MAX_REJECTED_IN_A_ROW:
                counts = {r.value: int(c) for r, c in zip(REJECTIONS, pending, strict=True) if c}
                raise ConfigError(
                    f"{MAX_REJECTED_IN_A_ROW} attempts in a row were rejected ({counts}) after {len(problems)} of "
                    f"{n} problems: task {self.config()} (almost) never makes a usable one, or has too few "
                    "distinct problems for the batch or evaluation size"
                )
            made = self.make_pair(rng)
            if not isinstance(made, Rejection):
                ids = np.array(self.vocabulary.ids(made.problem_tokens), dtype=IDS)
                key = ids.tobytes()
                if key not in seen:
                    seen.add(key)
                    rejected[len(problems)] = pending
                    pending[:] = 0
                    problems.append(ids)
                    solutions.append(np.array(self.vocabulary.ids(made.solution_tokens), dtype=IDS))
                    continue
                made = Rejection.DUPLICATE
            pending[REJECTIONS.index(made)] += 1
        return {
            "problem": padded_rows(problems, self.max_len, IDS),
            "solution": padded_rows(solutions, self.max_len, IDS),
            "rejected": rejected,
        }

    def keys(self, problems: Problems) -> np.ndarray:
        rows, n_tokens = problems["problem"], lengths(problems["problem"])
        return np.array([token_key(row[:k]) for row, k in zip(rows, n_tokens, strict=True)], dtype=np.int64)

    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        """Cut to the batch's longest problem and solution: attention cost follows the data, not `max_len`."""
        problem, solution = problems["problem"], problems["solution"]
        n, rows = len(problem), np.arange(len(problem))
        p_len, s_len = lengths(problem), lengths(solution)
        source = np.zeros((n, p_len.max(initial=0) + 1), dtype=np.int64)
        source[:, :-1] = problem[:, : source.shape[1] - 1]
        source[rows, p_len] = Vocabulary.eos_id
        target = np.zeros((n, s_len.max(initial=0) + 2), dtype=np.int64)
        target[:, 0] = Vocabulary.bos_id
        target[:, 1:-1] = solution[:, : target.shape[1] - 2]
        target[rows, s_len + 1] = Vocabulary.eos_id
        return source, target

    # --- scoring -------------------------------------------------------------------------------------
    def expression(self, ids: np.ndarray) -> sp.Expr:
        """The expression of ids (padding or end-of-sequence ends it); `DecodeError` when malformed."""
        return self.codec.decode(self.vocabulary.words(ids[ids != Vocabulary.pad_id]))

    def decode(self, hypotheses: np.ndarray) -> tuple[list[sp.Expr | None], np.ndarray]:
        """The expression each hypothesis reads as (None when malformed), and whether it is well formed."""
        values: list[sp.Expr | None] = []
        for hypothesis in hypotheses:
            try:
                values.append(self.codec.decode(self.vocabulary.words(hypothesis)))
            except DecodeError:
                values.append(None)
        return values, np.array([v is not None for v in values], dtype=bool)

    def verdicts(self, problems: Problems, hypotheses: np.ndarray) -> list[Verdict]:
        out = []
        for row, (problem, reference, hypothesis) in enumerate(
            zip(problems["problem"], problems["solution"], hypotheses, strict=True)
        ):
            if not (problem != Vocabulary.pad_id).any():
                out.append(Verdict.NOT_ENCODABLE)  # a typed line the codec cannot write: counted, never right
                continue
            words = self.vocabulary.words(hypothesis)
            if words and words == self.vocabulary.words(reference[reference != Vocabulary.pad_id]):
                out.append(Verdict.CORRECT)  # the verified reference itself: no sympy needed
                continue
            (answer,), _ = self.decode(hypothesis[None])
            verdict = Verdict.MALFORMED if answer is None else self.verify(self.expression(problem), answer, row)
            out.append(verdict)
        return out

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        verdicts = np.array([v.value for v in self.verdicts(problems, hypotheses)])
        return verdicts == Verdict.CORRECT.value, {kind: verdicts == kind for kind in self.outcome_kinds}

    classes_are: ClassVar[str] = "problem length in tokens"

    def classes(self, problems: Problems) -> np.ndarray:
        """The problem's length in tokens: accuracy by length shows where a model stops generalising."""
        return lengths(problems["problem"]).astype(np.int64)

    # --- people --------------------------------------------------------------------------------------
    def parse_problem(self, args: Sequence[str]) -> Problems:
        """A problem typed in infix (`x*cos(x)`, `x*y' - y = 0`), read by our grammar, never evaluated."""
        text = " ".join(args)
        try:
            _, tokens = self.typed(text, self.equations)
        except (ParseError, EncodeError, TimeLimitExceeded) as error:
            raise ConfigError(
                f"cannot read {shown(text)} as an expression of {', '.join(self.variables)}: {error}"
            ) from None
        if len(tokens) > self.max_len:
            raise ConfigError(f"{shown(text)} is {len(tokens)} tokens long; the model reads at most {self.max_len}")
        ids = np.array(self.vocabulary.ids(tokens), dtype=IDS)
        return {
            "problem": padded_rows([ids], self.max_len, IDS),
            "solution": padded_rows([[]], self.max_len, IDS),
            "rejected": np.zeros((1, len(REJECTIONS)), dtype=np.int32),
        }

    def typed(self, text: str, equation: bool = False) -> tuple[sp.Expr, list[str]]:
        """An expression typed in infix (an equation `lhs = rhs` where `equation`), read by our grammar, never
        evaluated, and its tokens, under a time limit; raises ParseError (`Unsupported`: a name or a size the
        reader refuses), EncodeError or TimeLimitExceeded."""
        with time_limit(max(self.seconds, 5.0)):
            expr = self.codec.reader(self.typed_names).read(text, equation=equation)
            return expr, self.codec.encode(expr)

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        def written(ids: np.ndarray, empty: str) -> str:
            return str(self.expression(ids)) if (ids != Vocabulary.pad_id).any() else empty

        return [
            {"problem": written(problem, "(not encodable)"), "solution": written(solution, "(no reference)")}
            for problem, solution in zip(problems["problem"], problems["solution"], strict=True)
        ]

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        values, _ = self.decode(hypotheses)
        out = []
        for verdict, value in zip(self.verdicts(problems, hypotheses), values, strict=True):
            text = "(malformed)" if value is None else str(value)
            out.append(f"{text}  [{'verified' if verdict is Verdict.CORRECT else verdict.value}]")
        return out
