"""Scientific runs, minutes long: `python3 -m pytest -m slow`."""

import numpy as np
import pytest
import torch

from lit_math.data import GCDDataModule
from lit_math.model import Seq2SeqModule

from .helpers import trainer


def accuracy_by_gcd(fit, module, loader) -> dict[int, float]:
    predictions = fit.predict(module, loader)
    gcd = np.concatenate([np.gcd(p["problems"]["a"], p["problems"]["b"]) for p in predictions])
    correct = np.concatenate([p["correct"] for p in predictions])
    return {int(k): float(correct[gcd == k].mean()) for k in np.unique(gcd)}


@pytest.mark.slow
def test_base_30_learns_the_products_of_its_prime_divisors(tmp_path):
    """Charton 2023: in base 30 a small model soon predicts gcd 1, 2, 3, 5, 6, 10, ... (products of 2, 3, 5),
    not 7, and reaches about 85% on uniform pairs after 300,000 examples."""
    torch.manual_seed(0)
    data = GCDDataModule(base=30, epoch_size=300_000, per_class=200, classes=10, natural_size=5000, seed=0)
    module = Seq2SeqModule(
        task=data.task_config, d_model=64, n_enc_layers=1, n_dec_layers=1, n_heads=4, lr=1e-3, warmup_steps=100
    )
    trainer(tmp_path, max_epochs=1, limit_val_batches=0, num_sanity_val_steps=0).fit(module, data)
    evaluate = trainer(tmp_path)
    metrics = {k: v for per_set in evaluate.validate(module, data, verbose=False) for k, v in per_set.items()}
    assert metrics["val/natural/acc"] > 0.8
    by_gcd = accuracy_by_gcd(evaluate, module, data.val_dataloader()[1])
    assert all(by_gcd[k] > 0.9 for k in (1, 2, 3, 5, 6, 10)), by_gcd
    assert by_gcd[7] < 0.5, by_gcd
