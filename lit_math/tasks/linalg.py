"""Linear algebra on matrices of floats (Charton 2022, "Linear algebra with transformers").

Problems are matrices (and a second matrix or vector for add, matmul, matvec) written with three significant
digits; the numbers the model reads are exactly the numbers the target is computed from (inputs are rounded
first). Answers are scored by relative L1 error under a tolerance, and decompositions by what makes them
right, not by closeness to one reference: eigenvectors and singular vectors must reconstruct the matrix
*and* be orthonormal (an all-zero or rescaled answer is wrong), an inverse must leave a small residual M P - I.
Each operation is one `Operation` record of `OPERATIONS`: adding an operation is adding a record.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import Vocabulary
from lit_math.encoding.floats import ENCODINGS, FloatCodec
from lit_math.errors import ConfigError, ascii_float, check_choice, check_int, shown
from lit_math.tasks.base import Problems, Task, relative_l1

Shapes = Callable[[int, int], list[tuple[int, ...]]]
"""(rows, cols) -> shapes of one problem's arrays."""

EIGEN_DISTRIBUTIONS: tuple[str, ...] = (
    "semicircle",
    "uniform",
    "gaussian",
    "laplace",
    "positive",
    "positive_laplace",
    "marchenko_pastur",
)
COEFFICIENTS: tuple[str, ...] = ("uniform", "gaussian")
TOLERANCES: tuple[float, ...] = (0.05, 0.02, 0.01, 0.005)
"""The tolerances of the paper's tables: `acc` is at `tolerance`, the others are logged as acc@<t>pct."""
MAX_RESAMPLING_ROUNDS = 100
DIMS = [f"V{k}" for k in range(1, 31)]
"""The dimension tokens written before each array (V1..V30)."""


def haar_orthogonal(rng: np.random.Generator, batch: int, n: int) -> np.ndarray:
    """Orthogonal matrices distributed by Haar measure: QR of a Gaussian matrix, with R's diagonal made
    positive (without that sign fix, QR's output is not Haar)."""
    q, r = np.linalg.qr(rng.standard_normal((batch, n, n)))
    return q * np.where(np.diagonal(r, axis1=1, axis2=2) < 0, -1.0, 1.0)[:, None, :]


def _inverses(m: np.ndarray) -> np.ndarray:
    """Inverses, NaN for a singular matrix (then not writable, so drawn again) instead of failing the batch."""
    try:
        return np.linalg.inv(m)
    except np.linalg.LinAlgError:
        out = np.full_like(m, np.nan)
        for i, matrix in enumerate(m):
            try:
                out[i] = np.linalg.inv(matrix)
            except np.linalg.LinAlgError:
                pass
        return out


def orthonormality(vectors: np.ndarray) -> np.ndarray:
    """sum |V^T V - I| / k for k columns: 0 for orthonormal columns, 1 for zero vectors."""
    k = vectors.shape[-1]
    gram = vectors.transpose(0, 2, 1) @ vectors
    return np.abs(gram - np.eye(k)).sum(axis=(1, 2)) / k


# --- the operations ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """One matrix operation: the shapes it reads and writes, its reference answer, and how an answer is judged."""

    name: str
    outputs: Shapes
    """The shapes of the answer's parts."""
    answer: Callable[[np.ndarray, np.ndarray | None], list[np.ndarray]]
    """(matrices, the second operands or None) -> the reference answer's parts."""
    other: Shapes = lambda r, c: []
    """The shape of the second operand (a matrix or a vector), if the operation has one."""
    error: Callable[[np.ndarray, list[np.ndarray]], np.ndarray] | None = None
    """(matrices, the answer's parts) -> the relative error that decides an answer, for the operations judged by
    what makes them right (decompositions, inverses); None: relative L1 distance to the reference answer. Answers
    judged so are checked when sampling: rounded to three digits, they may fail."""
    diagnoses: tuple[str, ...] = ()
    """What `diagnose` tells of an answer, logged with the outcomes (ErrorAnalysis: among the errors)."""
    diagnose: Callable[[list[np.ndarray], list[np.ndarray], float], dict[str, np.ndarray]] | None = None
    """(the answer's parts, the reference's parts, tolerance) -> a mask per diagnosis."""
    square: bool = False
    """The operation needs square matrices."""
    symmetric: bool = False
    """The matrices are symmetric, their eigenvalues drawn from `eigen_distribution`."""


def _eigh(m: np.ndarray, _: np.ndarray | None) -> list[np.ndarray]:
    values, vectors = np.linalg.eigh(m)
    return [values[:, ::-1], vectors[:, :, ::-1]]


def _svd(m: np.ndarray, _: np.ndarray | None) -> list[np.ndarray]:
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    return [s, u, vt.transpose(0, 2, 1)]


def _eigendecomposition_error(m: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """Eigenpairs must rebuild M, with orthonormal vectors (pairs in any order, vectors up to sign)."""
    values, vectors = parts
    rebuilt = (vectors * values[:, None, :]) @ vectors.transpose(0, 2, 1)
    return np.maximum(relative_l1(rebuilt, m), orthonormality(vectors))


def _svd_error(m: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """U S V^T must rebuild M, with orthonormal columns of U and V."""
    s, u, v = parts
    rebuilt = (u * s[:, None, :]) @ v.transpose(0, 2, 1)
    return np.maximum(relative_l1(rebuilt, m), np.maximum(orthonormality(u), orthonormality(v)))


def _inverse_error(m: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """The residual M P - I."""
    identity = np.broadcast_to(np.eye(m.shape[-1]), m.shape)
    return relative_l1(m @ parts[0], identity)


def _eigendecomposition_diagnoses(
    parts: list[np.ndarray], truth: list[np.ndarray], tolerance: float
) -> dict[str, np.ndarray]:
    """What an eigendecomposition gets right (Charton 2022, "What is my math transformer doing?"): the
    eigenvalues (in any order), unit-norm vectors, orthogonal vectors, each within the tolerance."""
    (values, vectors), true_values = parts, truth[0]
    values_right = relative_l1(np.sort(values, axis=1), np.sort(true_values, axis=1)) <= tolerance
    norms = np.linalg.norm(vectors, axis=1)
    unit = np.abs(norms - 1).max(axis=1) <= tolerance
    unit_vectors = vectors / norms[:, None, :]
    gram = unit_vectors.transpose(0, 2, 1) @ unit_vectors
    orthogonal = np.abs(gram - np.eye(vectors.shape[-1])).max(axis=(1, 2)) <= tolerance
    return {"values_right": values_right, "unit_norm": unit, "orthogonal": orthogonal}


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("transpose", lambda r, c: [(c, r)], lambda m, _: [m.transpose(0, 2, 1)]),
        Operation("add", lambda r, c: [(r, c)], lambda m, other: [m + other], other=lambda r, c: [(r, c)]),
        Operation("matmul", lambda r, c: [(r, r)], lambda m, other: [m @ other], other=lambda r, c: [(c, r)]),
        Operation("matvec", lambda r, c: [(r,)], lambda m, other: [np.einsum("bij,bj->bi", m, other)],
                  other=lambda r, c: [(c,)]),
        Operation("eigenvalues", lambda r, c: [(r,)], lambda m, _: [np.linalg.eigvalsh(m)[:, ::-1]],
                  square=True, symmetric=True),
        Operation("eigendecomposition", lambda r, c: [(r,), (r, r)], _eigh, error=_eigendecomposition_error,
                  diagnoses=("values_right", "unit_norm", "orthogonal"), diagnose=_eigendecomposition_diagnoses,
                  square=True, symmetric=True),
        Operation("singular_values", lambda r, c: [(min(r, c),)], lambda m, _: [np.linalg.svd(m, compute_uv=False)]),
        Operation("svd", lambda r, c: [(min(r, c),), (r, min(r, c)), (c, min(r, c))], _svd, error=_svd_error),
        Operation("inverse", lambda r, c: [(r, r)], lambda m, _: [_inverses(m)], error=_inverse_error, square=True),
    )
}  # fmt: skip
"""Every operation by name."""


@dataclass(frozen=True)
class LinearAlgebraKnobs:
    """What a linear-algebra task is, whatever the sizes: checked once, with the vocabulary they make."""

    operation: str = "transpose"
    """``transpose``, ``add``, ``matmul``, ``matvec``, ``eigenvalues`` (symmetric), ``eigendecomposition``
    (values and vectors), ``singular_values``, ``svd`` (full) or ``inverse``."""
    rows: int = 5
    """Rows of the matrices (the largest, with ``min_rows``)."""
    cols: int | None = None
    """Columns (default: square); transpose, add, matmul, matvec and the SVDs may be rectangular."""
    encoding: str = "P1000"
    """Float encoding of problems and answers: ``P10``, ``P1000``, ``B1999`` or ``FP15``."""
    input_encoding: str | None = None
    """Encoding of the problems, when it differs from ``encoding``."""
    output_encoding: str | None = None
    """Encoding of the answers, when it differs from ``encoding``."""
    max_exponent: int = 100
    """Largest exponent written (FP15: keep it small, 1999 tokens per exponent); examples whose numbers fall
    outside are drawn again."""
    coefficients: str = "uniform"
    """Entries ``uniform`` on [-bound, bound] or ``gaussian`` with the same variance."""
    bound: float = 10.0
    """The bound A of the entries (the paper: 10)."""
    eigen_distribution: str = "semicircle"
    """Eigenvalues of the symmetric tasks: ``semicircle`` (a plain Wigner matrix), ``uniform``, ``gaussian``,
    ``laplace``, ``positive``, ``positive_laplace``, ``marchenko_pastur`` (Q D Q^T with Haar Q, the Wigner
    matrix's variance)."""
    noise: float = 0.0
    """Relative gaussian noise on the input entries (answers are those of the clean matrix)."""
    tolerance: float = 0.05
    """Relative L1 error under which an answer is right (``acc``); 2%, 1%, 0.5% are logged too."""

    def __post_init__(self) -> None:
        for name in ("input_encoding", "output_encoding"):  # None: `encoding`, saved resolved in the config
            if getattr(self, name) is None:
                object.__setattr__(self, name, self.encoding)
        check_choice("operation", self.operation, tuple(OPERATIONS))
        check_int("rows", self.rows, 1, 30)
        cols = self.rows if self.cols is None else check_int("cols", self.cols, 1, 30)
        if cols != self.rows and self.spec.square:
            raise ConfigError(f"operation {self.operation} needs square matrices; got {self.rows}x{cols}")
        check_choice("coefficients", self.coefficients, COEFFICIENTS)
        check_choice("eigen_distribution", self.eigen_distribution, EIGEN_DISTRIBUTIONS)
        if not self.bound > 0 or not self.noise >= 0 or not 0 < self.tolerance < 1:
            raise ConfigError(
                f"bound must be > 0, noise >= 0 and tolerance in (0, 1); got bound={self.bound}, "
                f"noise={self.noise}, tolerance={self.tolerance}"
            )
        self.source_codec, self.target_codec  # noqa: B018 (validate the encodings and max_exponent)
        check_choice("encoding", self.encoding, tuple(ENCODINGS))

    @property
    def spec(self) -> Operation:
        """The record of this task's operation."""
        return OPERATIONS[self.operation]

    @functools.cached_property
    def source_codec(self) -> FloatCodec:
        return FloatCodec(self.input_encoding, self.max_exponent)  # type: ignore[arg-type]

    @functools.cached_property
    def target_codec(self) -> FloatCodec:
        return FloatCodec(self.output_encoding, self.max_exponent)  # type: ignore[arg-type]

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(list(dict.fromkeys([*DIMS, *self.source_codec.tokens, *self.target_codec.tokens])))

    @functools.cached_property
    def source_ids(self) -> np.ndarray:
        """The vocabulary id of each of the source codec's tokens."""
        return np.array(self.vocabulary.ids(self.source_codec.tokens), dtype=np.int64)

    @functools.cached_property
    def target_ids(self) -> np.ndarray:
        """The vocabulary id of each of the target codec's tokens."""
        return np.array(self.vocabulary.ids(self.target_codec.tokens), dtype=np.int64)

    @functools.cached_property
    def target_index(self) -> np.ndarray:
        """The target codec's index of each vocabulary id (-1 for the others)."""
        index = np.full(len(self.vocabulary), -1, dtype=np.int64)
        index[self.target_ids] = np.arange(len(self.target_codec.tokens))
        return index

    @functools.cached_property
    def dim_ids(self) -> np.ndarray:
        """The vocabulary ids of V1..V30."""
        return np.array(self.vocabulary.ids(DIMS), dtype=np.int64)

    rejection_kinds: ClassVar[tuple[str, ...]] = ("not_writable",)

    @property
    def outcome_kinds(self) -> tuple[str, ...]:
        kinds = (*(f"acc@{t * 100:g}pct" for t in TOLERANCES[1:]), "malformed")
        return (*kinds, *self.spec.diagnoses)


@dataclass(frozen=True)
class LinearAlgebraTask(LinearAlgebraKnobs, Task):
    """One matrix operation on `rows` x `cols` matrices (square ones for the symmetric and inverse tasks)."""

    family: ClassVar[str] = "linalg"

    @functools.cached_property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.rows if self.cols is None else self.cols)

    @functools.cached_property
    def max_source_len(self) -> int:  # type: ignore[override]
        return sum(self._length(s, self.source_codec) for s in self.input_shapes()) + 1

    @functools.cached_property
    def max_target_len(self) -> int:  # type: ignore[override]
        return sum(self._length(s, self.target_codec) for s in self.output_shapes()) + 2

    # --- shapes --------------------------------------------------------------------------------------
    def input_shapes(self) -> list[tuple[int, ...]]:
        return [self.shape, *self.spec.other(*self.shape)]

    def output_shapes(self) -> list[tuple[int, ...]]:
        return self.spec.outputs(*self.shape)

    @staticmethod
    def _length(shape: tuple[int, ...], codec: FloatCodec) -> int:
        return len(shape) + int(np.prod(shape)) * codec.per_number

    # --- sampling ------------------------------------------------------------------------------------
    def _entries(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.coefficients == "uniform":
            return rng.uniform(-self.bound, self.bound, shape)
        return rng.normal(0.0, self.bound / np.sqrt(3.0), shape)

    def eigenvalues_of_law(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Eigenvalues drawn from the configured law, with the second moment E[l^2] of the Wigner matrix's
        spectrum (n bound^2 / 3), so that only the law's shape differs between experiments."""
        n = self.rows
        variance = n * self.bound**2 / 3.0  # semicircle of a Wigner matrix with entries of variance bound^2 / 3
        law, shape = self.eigen_distribution, (batch, n)
        if law == "uniform":
            return rng.uniform(-1, 1, shape) * np.sqrt(3 * variance)
        if law == "gaussian":
            return rng.normal(0, np.sqrt(variance), shape)
        if law in ("laplace", "positive_laplace"):
            values = rng.laplace(0, np.sqrt(variance / 2), shape)
            return np.abs(values) if law == "positive_laplace" else values
        if law == "positive":  # |semicircle|: radius 2 sqrt(variance), drawn as R (2 B - 1), B ~ Beta(3/2, 3/2)
            return np.abs(2 * np.sqrt(variance) * (2 * rng.beta(1.5, 1.5, shape) - 1))
        x = rng.normal(0, 1, (batch, n, n))  # marchenko_pastur: a Wishart matrix's spectrum, E[l^2] = n (2n + 1)
        values = np.linalg.eigvalsh(x @ x.transpose(0, 2, 1))
        return values * np.sqrt(variance / (n * (2 * n + 1)))

    def symmetric(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        if self.eigen_distribution == "semicircle":
            m = self._entries(rng, (batch, self.rows, self.rows))
            return np.triu(m) + np.triu(m, 1).transpose(0, 2, 1)
        q = haar_orthogonal(rng, batch, self.rows)
        d = self.eigenvalues_of_law(rng, batch)
        m = (q * d[:, None, :]) @ q.transpose(0, 2, 1)
        return (m + m.transpose(0, 2, 1)) / 2  # exactly symmetric, so rounding keeps it so

    def _draw(self, rng: np.random.Generator, n: int) -> Problems:
        if self.spec.symmetric:
            first = self.symmetric(rng, n)
        else:
            first = self._entries(rng, (n, *self.shape))
        problems = {"matrix": first}
        if len(self.input_shapes()) == 2:
            problems["other"] = self._entries(rng, (n, *self.input_shapes()[1]))
        rounded = {name: self._rounded(values) for name, values in problems.items()}
        if self.noise > 0:  # the model reads noisy entries; the answer is that of the clean matrix
            rounded["clean"] = rounded["matrix"]
            noise = rng.standard_normal(problems["matrix"].shape)
            if self.spec.symmetric:  # a symmetric problem stays symmetric
                noise = (noise + noise.transpose(0, 2, 1)) / np.sqrt(2)
            noisy = problems["matrix"] * (1 + self.noise * noise)
            rounded["matrix"] = self._rounded(noisy)
        return self.with_answer(rounded)

    def with_answer(self, problems: Problems) -> Problems:
        """The problems with their reference answer (`answer`: the parts, flattened), computed once; NaN for a
        problem with an input the encoding cannot write (rounded to NaN: drawn again, and no LinAlgError)."""
        inputs = [problems.get("clean", problems["matrix"]), *([problems["other"]] if "other" in problems else [])]
        finite = np.logical_and.reduce([np.isfinite(x.reshape(len(x), -1)).all(axis=1) for x in inputs])
        if finite.all():
            return {**problems, "answer": self._flat(self.truth(problems))}
        answer = np.full((len(finite), sum(int(np.prod(s)) for s in self.output_shapes())), np.nan)
        answer[finite] = self._flat(self.truth({name: values[finite] for name, values in problems.items()}))
        return {**problems, "answer": answer}

    @staticmethod
    def _flat(parts: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([p.reshape(len(p), int(np.prod(p.shape[1:]))) for p in parts], axis=1)

    def parts_of(self, flat: np.ndarray) -> list[np.ndarray]:
        """Flattened answers (as `answer` and `decode` hold them) split into their parts, in the output shapes."""
        parts, at = [], 0
        for shape in self.output_shapes():
            size = int(np.prod(shape))
            parts.append(flat[:, at : at + size].reshape(len(flat), *shape))
            at += size
        return parts

    def answer_parts(self, problems: Problems) -> list[np.ndarray]:
        """The parts of the stored reference answer, in the output shapes."""
        return self.parts_of(problems["answer"])

    def _rounded(self, values: np.ndarray) -> np.ndarray:
        return self.source_codec.rounded(values)

    def entry_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of one problem in each array of `sample`'s problems."""
        width = sum(int(np.prod(shape)) for shape in self.output_shapes())
        inputs = dict(zip(("matrix", "other"), self.input_shapes(), strict=False))
        return {**inputs, "clean": self.shape, "answer": (width,), "rejected": (1,)}

    def sample(self, rng: np.random.Generator, n: int) -> Problems:
        """`n` problems whose answers the encoding can write and pass the tolerance as written (others are drawn
        again, and counted in `rejected`)."""
        problems = self._draw(rng, n)
        rejected = np.zeros((n, 1), dtype=np.int32)
        for _ in range(MAX_RESAMPLING_ROUNDS):
            bad = np.flatnonzero(~self.writable(problems))
            if not len(bad):
                return {**problems, "rejected": rejected}
            rejected[bad] += 1
            fresh = self._draw(rng, len(bad))
            for name in problems:
                problems[name][bad] = fresh[name]
        raise ConfigError(
            f"after {MAX_RESAMPLING_ROUNDS} rounds, {self.output_encoding} still cannot write the answers of "
            f"{self.operation} on these matrices: raise max_exponent or bound the entries"
        )

    def writable(self, problems: Problems) -> np.ndarray:
        """Which problems can be kept: the encodings write their inputs and answers, and the answer as written
        (three digits) passes the tolerance, so that a perfect model scores 100% (an inverse of a badly
        conditioned matrix, rounded, leaves a residual M P - I far over 5%)."""
        ok = self.target_codec.in_range(problems["answer"]).all(axis=1)
        for name in ("matrix", "other"):  # inputs the source encoding cannot write were rounded to NaN
            if name in problems:
                ok &= np.isfinite(problems[name].reshape(len(ok), -1)).all(axis=1)
        if ok.any() and self.spec.error is not None:  # judged by what makes them right: rounding may break them
            kept = {name: values[ok] for name, values in problems.items()}
            ok[ok] = self.error_of(kept, self.encode(kept)[1][:, 1:])[0] <= self.tolerance
        return ok

    # --- answers -------------------------------------------------------------------------------------
    def truth(self, problems: Problems) -> list[np.ndarray]:
        """The reference answer's parts (arrays of the output shapes), from the clean matrix."""
        return self.spec.answer(problems.get("clean", problems["matrix"]), problems.get("other"))

    def keys(self, problems: Problems) -> np.ndarray:
        rows = np.concatenate(
            [problems[k].reshape(len(problems[k]), -1) for k in ("matrix", "other") if k in problems], axis=1
        )
        shape = np.array(self.shape).tobytes()  # a 2x3 and a 3x2 matrix of the same entries differ
        digests = [hashlib.blake2b(shape + row.tobytes(), digest_size=8).digest() for row in rows]
        return np.frombuffer(b"".join(digests), dtype=np.int64).copy()

    # --- encoding ------------------------------------------------------------------------------------
    def _write(self, parts: Sequence[np.ndarray], codec: FloatCodec, ids: np.ndarray) -> np.ndarray:
        n = len(parts[0])
        pieces = []
        for part in parts:
            pieces.append(np.broadcast_to(self.dim_ids[np.array(part.shape[1:]) - 1], (n, part.ndim - 1)))
            pieces.append(ids[codec.token_indices(part.reshape(n, -1))].reshape(n, -1))
        return np.concatenate(pieces, axis=1)

    def encode(self, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
        inputs = [problems["matrix"], *([problems["other"]] if "other" in problems else [])]
        source = self._write(inputs, self.source_codec, self.source_ids)
        target = self._write(self.answer_parts(problems), self.target_codec, self.target_ids)
        n = len(source)
        eos, bos = np.full((n, 1), Vocabulary.eos_id), np.full((n, 1), Vocabulary.bos_id)
        return np.concatenate([source, eos], axis=1), np.concatenate([bos, target, eos], axis=1)

    # --- decoding and scoring ------------------------------------------------------------------------
    def decode(self, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each hypothesis's answer, flattened as `answer` is stored (`parts_of` splits it into the output
        shapes), and whether it is well formed: the right dimension tokens, well-formed numbers, end of sequence
        right after."""
        hypotheses = self.target_codec.long_zeros(hypotheses, self.target_index, Vocabulary.pad_id)
        n = len(hypotheses)
        width = sum(self._length(s, self.target_codec) for s in self.output_shapes()) + 1
        ids = np.zeros((n, width), dtype=np.int64)
        ids[:, : min(width, hypotheses.shape[1])] = hypotheses[:, :width]
        valid = ids[:, -1] == Vocabulary.eos_id
        numbers, at, k = [], 0, self.target_codec.per_number
        for shape in self.output_shapes():
            dims = self.dim_ids[np.array(shape) - 1]
            valid &= (ids[:, at : at + len(shape)] == dims).all(axis=1)
            at += len(shape)
            count = int(np.prod(shape))
            groups = self.target_index[ids[:, at : at + count * k]].reshape(n, count, k)
            values, ok = self.target_codec.decode_indices(groups)
            valid &= ok.all(axis=1)
            numbers.append(values.reshape(n, count))
            at += count * k
        return np.concatenate(numbers, axis=1), valid

    def error_of(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The relative error that decides each answer (inf when malformed), and whether it is well formed."""
        values, valid = self.decode(hypotheses)
        return self._error(problems, values, valid), valid

    def _error(self, problems: Problems, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
        parts, m = self.parts_of(values), problems.get("clean", problems["matrix"])
        with np.errstate(all="ignore"):
            if self.spec.error is not None:
                error = self.spec.error(m, parts)
            else:
                error = relative_l1(parts[0], self.answer_parts(problems)[0])
        return np.where(valid & np.isfinite(error), error, np.inf)

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        values, valid = self.decode(hypotheses)
        error = self._error(problems, values, valid)
        kinds = {f"acc@{t * 100:g}pct": error <= t for t in TOLERANCES[1:]}
        if self.spec.diagnose is not None:
            with np.errstate(all="ignore"):
                diagnoses = self.spec.diagnose(self.parts_of(values), self.answer_parts(problems), self.tolerance)
            kinds.update({name: valid & mask for name, mask in diagnoses.items()})
        return error <= self.tolerance, {**kinds, "malformed": ~valid}

    classes_are: ClassVar[str] = "condition number decade, floor(log10 cond)"

    def classes(self, problems: Problems) -> np.ndarray:
        """Decimal orders of magnitude of the condition number: accuracy by conditioning (inverse above all)."""
        m = problems.get("clean", problems["matrix"])
        decades = np.log10(np.maximum(np.linalg.cond(m), 1.0))
        return np.floor(np.nan_to_num(decades, nan=1000.0, posinf=1000.0)).astype(np.int64)  # singular: last

    # --- people --------------------------------------------------------------------------------------
    def parse_problem(self, args: Sequence[str]) -> Problems:
        shapes = self.input_shapes()
        needed = sum(int(np.prod(s)) for s in shapes)
        try:
            numbers = np.array([ascii_float(a) for a in " ".join(args).replace(",", " ").split()])
        except ValueError as error:
            raise ConfigError(f"a {self.operation} problem is numbers: {error}") from None
        if len(numbers) != needed:
            raise ConfigError(
                f"{self.operation} on {self.rows}x{self.shape[1]} matrices reads {needed} numbers "
                f"({' and '.join('x'.join(map(str, s)) for s in shapes)}, row by row); got {len(numbers)}"
            )
        parts, at = {}, 0
        for name, shape in zip(("matrix", "other"), shapes, strict=False):
            size = int(np.prod(shape))
            parts[name] = self._rounded(numbers[at : at + size].reshape(1, *shape))
            at += size
        if not all(np.isfinite(values).all() for values in parts.values()):
            raise ConfigError(
                f"{shown(' '.join(args))} holds numbers {self.input_encoding} cannot write (too large, nan)"
            )
        problems = self.with_answer(parts)
        if not self.target_codec.in_range(problems["answer"]).all():
            raise ConfigError(f"the answer to this problem is outside what {self.output_encoding} writes (singular?)")
        return problems

    def render(self, problems: Problems, hypotheses: np.ndarray) -> list[str]:
        values, valid = self.decode(hypotheses)
        parts, error = self.parts_of(values), self._error(problems, values, valid)
        out = []
        for i in range(len(hypotheses)):
            if not valid[i]:
                out.append("(malformed)")
                continue
            text = " | ".join(np.array2string(p[i], precision=3, separator=", ") for p in parts)
            out.append(f"{text}  [relative error {error[i]:.3g}]")
        return out

    def describe(self, problems: Problems) -> list[dict[str, Any]]:
        n = len(problems["matrix"])
        return [{name: values[i].tolist() for name, values in problems.items()} for i in range(n)]
