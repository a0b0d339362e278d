"""The linear-algebra family: answers against numpy, metrics that cannot be fooled, eigenvalue laws, Haar Q."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from lit_math.callbacks import ErrorAnalysis
from lit_math.data import LinearAlgebraDataModule
from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule
from lit_math.tasks.linalg import EIGEN_DISTRIBUTIONS, OPERATIONS, LinearAlgebraTask, haar_orthogonal

from .helpers import TINY_MODEL, trainer


def task(operation, **knobs):
    return LinearAlgebraTask(operation=operation, **{"rows": 4, **knobs})


def reference(t, problems):
    """The tokens of the reference answer, as a model would generate them (no BOS)."""
    return t.encode(problems)[1][:, 1:]


def written(t, parts):
    """Hypothesis ids for answer parts given as arrays (what a model answering `parts` generates)."""
    ids = t._write(parts, t.target_codec, t.target_ids)
    return np.concatenate([ids, np.full((len(ids), 1), 2)], axis=1)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_answers_are_numpys_and_the_reference_scores_right(operation):
    rectangular = operation in ("transpose", "add", "matmul", "matvec", "singular_values", "svd")
    t = task(operation, cols=3 if rectangular else None)
    problems = t.sample(np.random.default_rng(0), 50)
    m = problems["matrix"]
    expected = {
        "transpose": lambda: m.transpose(0, 2, 1),
        "add": lambda: m + problems["other"],
        "matmul": lambda: np.stack([a @ b for a, b in zip(m, problems["other"], strict=True)]),
        "matvec": lambda: np.stack([a @ v for a, v in zip(m, problems["other"], strict=True)]),
        "eigenvalues": lambda: np.stack([np.sort(np.linalg.eigvals(a).real)[::-1] for a in m]),
        "singular_values": lambda: np.stack([np.linalg.svd(a, compute_uv=False) for a in m]),
        "inverse": lambda: np.stack([np.linalg.inv(a) for a in m]),
    }
    if operation in expected:
        assert np.allclose(t.truth(problems)[0], expected[operation]())
    assert t.score(problems, reference(t, problems)).all()  # kept problems are answerable within tolerance
    source, target = t.encode(problems)
    assert source.shape[1] <= t.max_source_len and target.shape[1] <= t.max_target_len


def test_decompositions_are_checked_by_what_makes_them_right():
    t = task("eigendecomposition")
    problems = t.sample(np.random.default_rng(1), 40)
    values, vectors = t.truth(problems)
    order = np.random.default_rng(2).permutation(4)
    assert t.score(problems, written(t, [values[:, order], vectors[:, :, order]])).all()  # pairs in any order
    assert t.score(problems, written(t, [values, -vectors])).all()  # vectors up to sign
    assert not t.score(problems, written(t, [np.zeros_like(values), np.zeros_like(vectors)])).any()
    assert not t.score(problems, written(t, [values / 4, 2 * vectors])).any()  # rebuilds M, vectors not unit
    skewed = vectors + 0.3 * vectors[:, :, [1, 0, 3, 2]]  # not orthogonal
    assert not t.score(problems, written(t, [values, skewed])).any()
    svd = task("svd", cols=3)
    problems = svd.sample(np.random.default_rng(3), 40)
    s, u, v = svd.truth(problems)
    assert svd.score(problems, written(svd, [s, u, v])).all()
    assert not svd.score(problems, written(svd, [np.zeros_like(s), np.zeros_like(u), np.zeros_like(v)])).any()
    assert not svd.score(problems, written(svd, [s / 4, 2 * u, 2 * v])).any()  # rebuilds M, vectors not unit


def test_an_inverse_is_judged_by_its_residual():
    t = task("inverse")
    problems = t.sample(np.random.default_rng(4), 40)
    inverse = t.truth(problems)[0]
    assert t.score(problems, written(t, [inverse])).all()
    assert not t.score(problems, written(t, [2 * inverse])).any()
    assert not t.score(problems, written(t, [np.zeros_like(inverse)])).any()


def test_malformed_answers_are_wrong_and_counted():
    t = task("transpose")
    problems = t.sample(np.random.default_rng(5), 8)
    answer = reference(t, problems)
    broken = answer.copy()
    broken[:, 0] = t.dim_ids[2]  # V3 for a 4x4 answer
    short = answer[:, :-3]
    tripled = {name: np.concatenate([values] * 3) for name, values in problems.items()}  # answer included
    correct, outcomes = t.judge(tripled, np.concatenate([answer, broken, np.pad(short, ((0, 0), (0, 3)))]))
    assert correct.tolist() == [True] * 8 + [False] * 16
    assert outcomes["malformed"].tolist() == [False] * 8 + [True] * 16


@pytest.mark.parametrize("law", EIGEN_DISTRIBUTIONS)
def test_eigenvalue_laws_share_the_wigner_second_moment(law):
    t = task("eigenvalues", rows=5, eigen_distribution=law)
    matrices = t.symmetric(np.random.default_rng(6), 4000)
    spectrum = np.linalg.eigvalsh(matrices).ravel()
    assert np.mean(spectrum**2) == pytest.approx(5 * 10**2 / 3, rel=0.04)
    if law.startswith("positive"):
        assert spectrum.min() > -1e-9


@pytest.mark.parametrize("law,kurtosis", [("uniform", -1.2), ("gaussian", 0.0), ("laplace", 3.0)])
def test_eigenvalue_laws_have_their_shape(law, kurtosis):
    t = task("eigenvalues", rows=5, eigen_distribution=law)
    rng = np.random.default_rng(7)
    drawn = t.eigenvalues_of_law(rng, 20000).ravel()
    assert np.mean(drawn**4) / np.mean(drawn**2) ** 2 - 3 == pytest.approx(kurtosis, abs=0.25)
    matrices = t.symmetric(np.random.default_rng(8), 50)  # Q D Q^T has exactly the drawn eigenvalues
    again = np.random.default_rng(8)
    haar_orthogonal(again, 50, 5)
    drawn = t.eigenvalues_of_law(again, 50)
    assert np.allclose(np.linalg.eigvalsh(matrices), np.sort(drawn, axis=1))


def test_q_is_haar_not_merely_orthogonal():
    """For Haar Q in O(3), an entry is uniform on [-1, 1]; QR without the sign fix is not."""
    q = haar_orthogonal(np.random.default_rng(9), 20000, 3)
    assert np.allclose(q @ q.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    for i in range(3):
        for j in range(3):  # every entry, so a sign fix of one column only would not pass
            entry = np.sort(q[:, i, j])
            ks = np.max(np.abs(np.arange(1, len(entry) + 1) / len(entry) - (entry + 1) / 2))
            assert ks < 0.015, (i, j)  # Kolmogorov-Smirnov distance to uniform; 1% critical value 0.0115
    raw, _ = np.linalg.qr(np.random.default_rng(9).standard_normal((20000, 3, 3)))
    raw_entry = np.sort(raw[:, 0, 0])
    assert np.max(np.abs(np.arange(1, 20001) / 20000 - (raw_entry + 1) / 2)) > 0.1


def test_the_positive_law_is_the_folded_semicircle():
    """|semicircle| of radius R = 2 sqrt(n) A / sqrt(3): CDF of |x| is that of R (2B - 1) folded, B ~ Beta(3/2, 3/2)."""
    t = task("eigenvalues", rows=5, eigen_distribution="positive")
    drawn = np.sort(t.eigenvalues_of_law(np.random.default_rng(12), 4000).ravel())
    radius = 2 * np.sqrt(5 * 100 / 3)
    u = np.clip(drawn / radius, 0, 1)  # folded semicircle CDF: (2/pi) (u sqrt(1 - u^2) + asin u)
    cdf = (2 / np.pi) * (u * np.sqrt(1 - u**2) + np.arcsin(u))
    assert drawn.max() <= radius and np.max(np.abs(np.arange(1, len(u) + 1) / len(u) - cdf)) < 0.01


def test_noisy_symmetric_problems_stay_symmetric_and_bad_typed_problems_are_named():
    t = task("eigenvalues", noise=0.05, eigen_distribution="laplace")
    problems = t.sample(np.random.default_rng(13), 20)
    assert np.array_equal(problems["matrix"], problems["matrix"].transpose(0, 2, 1))
    assert not np.array_equal(problems["matrix"], problems["clean"])
    inverse = task("inverse", rows=2)
    with pytest.raises(ConfigError, match="cannot write"):
        inverse.parse_problem(["1", "nan", "2", "3"])
    with pytest.raises(ConfigError, match="outside what P1000 writes"):
        inverse.parse_problem(["1", "2", "2", "4"])  # singular
    with pytest.raises(ConfigError, match="reads 4 numbers"):
        inverse.parse_problem(["1", "2"])
    singular = {"matrix": np.array([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 1.0]]])}
    assert inverse.classes(singular).tolist()[1:] == [1000, 0]  # exactly singular: last, not with the best


def test_bad_knobs_are_named():
    with pytest.raises(ConfigError, match="operation must be one of transpose, add"):
        LinearAlgebraDataModule(operation="determinant")
    with pytest.raises(ConfigError, match="needs square matrices; got 4x3"):
        LinearAlgebraDataModule(operation="inverse", rows=4, cols=3)
    with pytest.raises(ConfigError, match="eigen_distribution must be one of semicircle"):
        LinearAlgebraDataModule(operation="eigenvalues", eigen_distribution="cauchy")
    with pytest.raises(ConfigError, match="encoding must be one of P10, P1000, B1999, FP15"):
        LinearAlgebraDataModule(encoding="P100")


def test_eigendecomposition_errors_are_diagnosed():
    t = task("eigendecomposition")
    problems = t.sample(np.random.default_rng(10), 30)
    values, vectors = t.truth(problems)
    checks = {
        "right": ([values, vectors], (True, True, True)),
        "values only": ([values, 3 * vectors], (True, False, True)),  # scaled: not unit, still orthogonal
        "vectors only": ([values + 5, vectors], (False, True, True)),
        "nothing": ([np.zeros_like(values), np.ones_like(vectors)], (False, False, False)),
    }
    for name, (parts, expected) in checks.items():
        _, outcomes = t.judge(problems, written(t, parts))
        got = tuple(bool(outcomes[k].all()) for k in ("values_right", "unit_norm", "orthogonal"))
        assert got == expected, name
    assert set(task("transpose").outcome_kinds) == {"acc@2pct", "acc@1pct", "acc@0.5pct", "malformed"}


class HalfRight(Seq2SeqModule):
    """Answers every other problem right, the others with vectors scaled by 3 (eigenvalues right, not unit)."""

    def answer(self, batch, task=None):
        problems = {name: values.cpu().numpy() for name, values in batch["problems"].items()}
        values, vectors = self.task.answer_parts(problems)
        scale = np.where(np.arange(len(values)) % 2 == 0, 1.0, 3.0)[:, None, None]
        hypotheses = written(self.task, [values, vectors * scale])
        correct, outcomes = self.task.judge(problems, hypotheses)
        return {"problems": problems, "hypotheses": hypotheses, "correct": correct, "outcomes": outcomes}


def test_error_analysis_reports_what_wrong_answers_get_right(tmp_path):
    data = LinearAlgebraDataModule(operation="eigendecomposition", rows=3, eval_size=64, batch_size=16)
    module = HalfRight(task=data.task_config, **TINY_MODEL)
    analysis = ErrorAnalysis()
    results = trainer(tmp_path, callbacks=[analysis]).validate(module, data, verbose=False)[0]
    assert analysis.among_errors["valid"] == {
        "malformed": 0.0,
        "values_right": 1.0,
        "unit_norm": 0.0,
        "orthogonal": 1.0,
    }
    assert sum(analysis.accuracy_by_class["valid"].values()) > 0 and results["val/valid/acc"] == 0.5
    assert results["analysis/valid/among_errors/values_right"] == 1.0


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "configs/linalg").glob("*.yaml"))
)
def test_every_linalg_config_is_the_experiment_it_names(name):
    from lit_math.cli import build_cli

    config = Path(__file__).resolve().parents[1] / "configs" / "linalg" / f"{name}.yaml"
    cli = build_cli(["--config", str(config), "--trainer.accelerator", "cpu"], run=False)
    t = cli.datamodule.task
    networks = {"lstm": "LSTMSeq2Seq", "gru": "GRUSeq2Seq", "mlp": "MLP"}  # a CPU experiment, another network
    operation, _, variant = name.rpartition("_")
    if variant not in ("cpu", "sizes", *networks):
        operation, variant = name, ""
    assert t.operation == operation and cli.model.task == t
    assert type(cli.model.network).__name__ == networks.get(variant, "EncoderDecoder")
    if variant in networks:
        assert (t.rows, t.input_encoding) == (3, "P1000") and config.with_name(f"{operation}_cpu.yaml").is_file()
    network = cli.model.network  # the transformer's knobs, given as model.d_model, ... (the papers' configs)
    layers = None if variant in networks else (network.n_enc_layers, network.n_dec_layers, network.d_model)
    if name == "eigenvalues":  # the paper's: 6-layer encoder, 1-layer decoder, 512 wide, FP15 in and out, 5x5
        assert layers == (6, 1, 512) and (t.input_encoding, t.output_encoding, t.rows) == ("FP15", "FP15", 5)
    if name == "transpose":
        assert layers == (1, 1, 512) and t.rows == 5
    if name == "eigenvalues_sizes":
        assert layers == (6, 1, 512) and t.shapes == [(k, k) for k in range(5, 16)]
    if name in ("singular_values", "svd"):
        assert layers == (6, 1, 512) and t.rows == 4
    if name in ("inverse", "eigendecomposition", "svd"):
        assert layers == (6, 1, 512) and (t.input_encoding, t.output_encoding) == ("FP15", "P1000")


@pytest.mark.slow
def test_a_small_model_learns_to_transpose_3x3_matrices(tmp_path):
    """configs/linalg/transpose_cpu.yaml in two epochs (about two minutes on one core): over 95% exact."""
    import lightning as L

    L.seed_everything(0)
    data = LinearAlgebraDataModule(operation="transpose", rows=3, epoch_size=32000, batch_size=64, eval_size=500)
    module = Seq2SeqModule(
        task=data.task_config, d_model=128, n_enc_layers=1, n_dec_layers=1, n_heads=8, lr=5e-4, warmup_steps=200
    )
    fit = trainer(tmp_path, max_epochs=2, gradient_clip_val=1.0)
    fit.fit(module, data)
    assert float(fit.callback_metrics["val/valid/acc"]) > 0.95


def test_answers_fp15_cannot_write_are_drawn_again_and_counted():
    t = task("matmul", input_encoding="FP15", output_encoding="FP15", max_exponent=2, bound=30.0)
    problems = t.sample(np.random.default_rng(11), 200)  # FP15 with |exponent| <= 2 writes 1.00 to 99,900 only
    assert t.target_codec.in_range(problems["answer"]).all() and t.source_codec.in_range(problems["matrix"]).all()
    assert problems["rejected"].sum() > 0 and problems["rejected"].shape == (200, 1)


def test_cross_eval_across_eigenvalue_laws(tmp_path, capsys):
    from lit_math.cross_eval import main as cross_eval

    data = LinearAlgebraDataModule(operation="eigenvalues", rows=3, eval_size=32, epoch_size=256, batch_size=32)
    fit = trainer(tmp_path, max_epochs=1, limit_val_batches=0)
    fit.fit(Seq2SeqModule(task=data.task_config, **TINY_MODEL), data)
    fit.save_checkpoint(tmp_path / "semicircle.ckpt")
    configs = []
    for law in ("semicircle", "laplace", "positive"):
        spec = {"operation": "eigenvalues", "rows": 3, "eval_size": 32, "eigen_distribution": law}
        (tmp_path / f"{law}.yaml").write_text(
            yaml.safe_dump({"data": {"class_path": "lit_math.data.LinearAlgebraDataModule", "init_args": spec}})
        )
        configs += ["--data", str(tmp_path / f"{law}.yaml")]
    assert cross_eval(["--ckpt", str(tmp_path / "semicircle.ckpt"), *configs, "--accelerator", "cpu"]) == 0
    header = capsys.readouterr().out.strip().splitlines()[-4]  # header, rule, one row, where the output went
    assert all(f"{law}/valid" in header for law in ("semicircle", "laplace", "positive"))


def test_answers_with_lawts_spelling_of_zero_are_read():
    """P10 zero as LAWT writes it (`+ 0 E0`, three tokens) is the same number as our `+ 0 0 0 E0`."""
    t = task("transpose", rows=2, output_encoding="P10")
    problems = {"matrix": np.array([[[0.0, 1.5], [-2.0, 0.0]]])}
    problems = t.with_answer(problems)
    ours = t.encode(problems)[1][:, 1:]
    words = [w for w in t.vocabulary.words(ours[0]) if w != "<eos>"]
    lawt = " ".join(words).replace("+ 0 0 0 E0", "+ 0 E0").split()
    assert len(lawt) == len(words) - 4
    hypothesis = np.array([[*t.vocabulary.ids(lawt), 2]])
    assert t.score(problems, ours)[0] and t.score(problems, hypothesis)[0]
