"""Linear algebra on matrices of floats (Charton 2022, "Linear algebra with transformers").

Problems are matrices (and a second matrix or vector for add, matmul, matvec) written with three significant
digits; the numbers the model reads are exactly the numbers the target is computed from (inputs are rounded
first). Answers are scored by relative L1 error under a tolerance, and decompositions by what makes them
right, not by closeness to one reference: eigenvectors and singular vectors must reconstruct the matrix
*and* be orthonormal (an all-zero or rescaled answer is wrong), an inverse must leave a small residual M P - I.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from lit_math.encoding import Vocabulary
from lit_math.encoding.floats import FloatCodec
from lit_math.errors import ConfigError, ascii_float, check_choice, check_int, shown
from lit_math.tasks.base import Problems, Task

OPERATIONS: tuple[str, ...] = (
    "transpose",
    "add",
    "matmul",
    "matvec",
    "eigenvalues",
    "eigendecomposition",
    "singular_values",
    "svd",
    "inverse",
)
SYMMETRIC = ("eigenvalues", "eigendecomposition")
SQUARE = (*SYMMETRIC, "inverse")
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
DIAGNOSES = ("values_right", "unit_norm", "orthogonal")
"""What an eigendecomposition answer gets right, logged with the outcomes (ErrorAnalysis: among the errors)."""


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


def relative_l1(hypothesis: np.ndarray, target: np.ndarray) -> np.ndarray:
    """sum |hyp - tgt| / sum |tgt| over all but the first axis (NaN where the hypothesis is malformed)."""
    axes = tuple(range(1, target.ndim))
    scale = np.maximum(np.abs(target).sum(axis=axes), 1e-12)
    return np.abs(hypothesis - target).sum(axis=axes) / scale


@dataclass(frozen=True)
class LinearAlgebraKnobs:
    """What a linear-algebra task is, whatever the sizes: checked once, with the vocabulary they make."""

    operation: str = "transpose"
    rows: int = 5
    cols: int | None = None
    """Columns (default: square); rectangular for transpose, add, matmul, matvec, singular values, svd."""
    input_encoding: str = "P1000"
    output_encoding: str = "P1000"
    max_exponent: int = 100
    """Largest exponent written (FP15 needs a small one: its vocabulary has 1999 tokens per exponent)."""
    coefficients: str = "uniform"
    """Entries uniform on [-bound, bound], or gaussian with standard deviation bound / sqrt(3) (same variance)."""
    bound: float = 10.0
    eigen_distribution: str = "semicircle"
    """Eigenvalues of the symmetric tasks: a plain Wigner matrix (semicircle), or Q D Q^T with Haar Q and D
    drawn from uniform, gaussian, laplace (each with the Wigner variance), positive (|semicircle|),
    positive_laplace, marchenko_pastur."""
    noise: float = 0.0
    """Relative gaussian noise on the input entries (the target is that of the clean matrix)."""
    tolerance: float = 0.05

    def __post_init__(self) -> None:
        check_choice("operation", self.operation, OPERATIONS)
        check_int("rows", self.rows, 1, 30)
        cols = self.rows if self.cols is None else check_int("cols", self.cols, 1, 30)
        if cols != self.rows and self.operation in SQUARE:
            raise ConfigError(f"operation {self.operation} needs square matrices; got {self.rows}x{cols}")
        check_choice("coefficients", self.coefficients, COEFFICIENTS)
        check_choice("eigen_distribution", self.eigen_distribution, EIGEN_DISTRIBUTIONS)
        if not self.bound > 0 or not self.noise >= 0 or not 0 < self.tolerance < 1:
            raise ConfigError(
                f"bound must be > 0, noise >= 0 and tolerance in (0, 1); got bound={self.bound}, "
                f"noise={self.noise}, tolerance={self.tolerance}"
            )
        source, target = (
            FloatCodec(self.input_encoding, self.max_exponent),
            FloatCodec(self.output_encoding, self.max_exponent),
        )
        dims = [f"V{k}" for k in range(1, 31)]
        tokens = list(dict.fromkeys([*dims, *source.tokens, *target.tokens]))
        vocabulary = Vocabulary(tokens)
        object.__setattr__(self, "source_codec", source)
        object.__setattr__(self, "target_codec", target)
        object.__setattr__(self, "vocabulary", vocabulary)
        for name, codec in (("source_ids", source), ("target_ids", target)):
            object.__setattr__(self, name, np.array(vocabulary.ids(codec.tokens), dtype=np.int64))
            index = np.full(len(vocabulary), -1, dtype=np.int64)
            index[getattr(self, name)] = np.arange(len(codec.tokens))
            object.__setattr__(self, name.replace("_ids", "_index"), index)
        object.__setattr__(self, "dim_ids", np.array(vocabulary.ids(dims), dtype=np.int64))

    def config(self) -> dict[str, Any]:
        return {"family": self.family, **asdict(self)}  # type: ignore[attr-defined]

    rejection_kinds: ClassVar[tuple[str, ...]] = ("not_writable",)

    @property
    def outcome_kinds(self) -> tuple[str, ...]:
        kinds = (*(f"acc@{t * 100:g}pct" for t in TOLERANCES[1:]), "malformed")
        return (*kinds, *DIAGNOSES) if self.operation == "eigendecomposition" else kinds


@dataclass(frozen=True)
class LinearAlgebraTask(LinearAlgebraKnobs, Task):
    """One matrix operation on `rows` x `cols` matrices (square ones for the symmetric and inverse tasks)."""

    family: ClassVar[str] = "linalg"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "shape", (self.rows, self.rows if self.cols is None else self.cols))
        source = sum(self._length(s, self.source_codec) for s in self.input_shapes())
        target = sum(self._length(s, self.target_codec) for s in self.output_shapes())
        object.__setattr__(self, "max_source_len", source + 1)
        object.__setattr__(self, "max_target_len", target + 2)

    # --- shapes --------------------------------------------------------------------------------------
    def input_shapes(self) -> list[tuple[int, ...]]:
        r, c = self.shape
        second = {"add": [(r, c)], "matmul": [(c, r)], "matvec": [(c,)]}.get(self.operation, [])
        return [(r, c), *second]

    def output_shapes(self) -> list[tuple[int, ...]]:
        r, c = self.shape
        k = min(r, c)
        return {
            "transpose": [(c, r)],
            "add": [(r, c)],
            "matmul": [(r, r)],
            "matvec": [(r,)],
            "eigenvalues": [(r,)],
            "eigendecomposition": [(r,), (r, r)],
            "singular_values": [(k,)],
            "svd": [(k,), (r, k), (c, k)],
            "inverse": [(r, r)],
        }[self.operation]

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
        if self.operation in SYMMETRIC:
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
            if self.operation in SYMMETRIC:  # a symmetric problem stays symmetric
                noise = (noise + noise.transpose(0, 2, 1)) / np.sqrt(2)
            noisy = problems["matrix"] * (1 + self.noise * noise)
            rounded["matrix"] = self._rounded(noisy)
        return self.with_answer(rounded)

    def with_answer(self, problems: Problems) -> Problems:
        """The problems with their reference answer (`answer`: the parts, flattened), computed once."""
        parts = self.answers(problems)
        return {**problems, "answer": np.concatenate([p.reshape(len(p), -1) for p in parts], axis=1)}

    def answer_parts(self, problems: Problems) -> list[np.ndarray]:
        """The parts of the stored reference answer, in the output shapes."""
        flat, parts, at = problems["answer"], [], 0
        for shape in self.output_shapes():
            size = int(np.prod(shape))
            parts.append(flat[:, at : at + size].reshape(len(flat), *shape))
            at += size
        return parts

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
        if ok.any() and self.operation in ("eigendecomposition", "svd", "inverse"):  # rounding may break them
            kept = {name: values[ok] for name, values in problems.items()}
            ok[ok] = self.score(kept, self.encode(kept)[1][:, 1:])
        return ok

    # --- answers -------------------------------------------------------------------------------------
    def answers(self, problems: Problems) -> list[np.ndarray]:
        """The reference answer's parts (arrays of the output shapes), from the clean matrix."""
        m = problems.get("clean", problems["matrix"])
        op = self.operation
        if op == "transpose":
            return [m.transpose(0, 2, 1)]
        if op == "add":
            return [m + problems["other"]]
        if op == "matmul":
            return [m @ problems["other"]]
        if op == "matvec":
            return [np.einsum("bij,bj->bi", m, problems["other"])]
        if op == "eigenvalues":
            return [np.linalg.eigvalsh(m)[:, ::-1]]
        if op == "eigendecomposition":
            values, vectors = np.linalg.eigh(m)
            return [values[:, ::-1], vectors[:, :, ::-1]]
        if op == "singular_values":
            return [np.linalg.svd(m, compute_uv=False)]
        if op == "svd":
            u, s, vt = np.linalg.svd(m, full_matrices=False)
            return [s, u, vt.transpose(0, 2, 1)]
        return [_inverses(m)]

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
    def read(self, hypotheses: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """The parts of each hypothesis (output shapes), and whether it is well formed: the right dimension
        tokens, well-formed numbers, end of sequence right after."""
        hypotheses = self.target_codec.long_zeros(hypotheses, self.target_index, Vocabulary.pad_id)
        n = len(hypotheses)
        width = sum(self._length(s, self.target_codec) for s in self.output_shapes()) + 1
        ids = np.zeros((n, width), dtype=np.int64)
        ids[:, : min(width, hypotheses.shape[1])] = hypotheses[:, :width]
        valid = ids[:, -1] == Vocabulary.eos_id
        parts, at, k = [], 0, self.target_codec.per_number
        for shape in self.output_shapes():
            dims = self.dim_ids[np.array(shape) - 1]
            valid &= (ids[:, at : at + len(shape)] == dims).all(axis=1)
            at += len(shape)
            count = int(np.prod(shape))
            groups = self.target_index[ids[:, at : at + count * k]].reshape(n, count, k)
            values, ok = self.target_codec.decode_indices(groups)
            valid &= ok.all(axis=1)
            parts.append(values.reshape(n, *shape))
            at += count * k
        return parts, valid

    def errors(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The relative error that decides each answer (inf when malformed), and whether it is well formed."""
        parts, valid = self.read(hypotheses)
        m = problems.get("clean", problems["matrix"])
        op = self.operation
        with np.errstate(all="ignore"):
            if op == "eigendecomposition":
                values, vectors = parts
                rebuilt = (vectors * values[:, None, :]) @ vectors.transpose(0, 2, 1)
                error = np.maximum(relative_l1(rebuilt, m), self._orthonormality(vectors))
            elif op == "svd":
                s, u, v = parts
                rebuilt = (u * s[:, None, :]) @ v.transpose(0, 2, 1)
                error = np.maximum(
                    relative_l1(rebuilt, m), np.maximum(self._orthonormality(u), self._orthonormality(v))
                )
            elif op == "inverse":
                identity = np.broadcast_to(np.eye(self.rows), m.shape)
                error = relative_l1(m @ parts[0], identity)
            else:
                error = relative_l1(parts[0], self.answer_parts(problems)[0])
        return np.where(valid & np.isfinite(error), error, np.inf), valid

    @staticmethod
    def _orthonormality(vectors: np.ndarray) -> np.ndarray:
        """sum |V^T V - I| / k for k columns: 0 for orthonormal columns, 1 for zero vectors."""
        k = vectors.shape[-1]
        gram = vectors.transpose(0, 2, 1) @ vectors
        return np.abs(gram - np.eye(k)).sum(axis=(1, 2)) / k

    def judge(self, problems: Problems, hypotheses: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        error, valid = self.errors(problems, hypotheses)
        kinds = {f"acc@{t * 100:g}pct": error <= t for t in TOLERANCES[1:]}
        if self.operation == "eigendecomposition":
            kinds.update(self.diagnose(problems, hypotheses))
        return error <= self.tolerance, {**kinds, "malformed": ~valid}

    def diagnose(self, problems: Problems, hypotheses: np.ndarray) -> dict[str, np.ndarray]:
        """What an eigendecomposition gets right (Charton 2022, "What is my math transformer doing?"): the
        eigenvalues (in any order), unit-norm vectors, orthogonal vectors, each within the tolerance."""
        (values, vectors), valid = self.read(hypotheses)
        true_values = self.answer_parts(problems)[0]
        tol = self.tolerance
        with np.errstate(all="ignore"):
            values_right = relative_l1(np.sort(values, axis=1), np.sort(true_values, axis=1)) <= tol
            norms = np.linalg.norm(vectors, axis=1)
            unit = np.abs(norms - 1).max(axis=1) <= tol
            unit_vectors = vectors / norms[:, None, :]
            gram = unit_vectors.transpose(0, 2, 1) @ unit_vectors
            orthogonal = np.abs(gram - np.eye(self.rows)).max(axis=(1, 2)) <= tol
        return {"values_right": valid & values_right, "unit_norm": valid & unit, "orthogonal": valid & orthogonal}

    def score(self, problems: Problems, hypotheses: np.ndarray) -> np.ndarray:
        return self.errors(problems, hypotheses)[0] <= self.tolerance

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
        parts, valid = self.read(hypotheses)
        error, _ = self.errors(problems, hypotheses)
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
