"""The optimiser steps fused (one kernel for all parameters) where Lightning allows it, with the same result."""

import copy

import pytest
import torch

from .helpers import tiny_data, tiny_model, trainer


@pytest.mark.parametrize("precision,fused", [("32-true", True), ("bf16-mixed", None)])
def test_fused_adamw_unless_mixed_precision_where_clipping_forbids_it(tmp_path, precision, fused):
    data = tiny_data()
    fit = trainer(tmp_path, max_steps=2, precision=precision, gradient_clip_val=1.0, limit_val_batches=0)
    fit.fit(tiny_model(data), data)  # a fused optimizer would raise here under bf16-mixed with clipping
    (group,) = fit.optimizers[0].param_groups
    assert group["fused"] is fused and group["foreach"] is (None if fused else True)


def test_fused_steps_move_the_weights_as_one_parameter_at_a_time_does():
    data = tiny_data()
    module = tiny_model(data, weight_decay=0.1)
    reference = copy.deepcopy(module)
    fused = module.configure_optimizers()["optimizer"]
    plain = reference.configure_optimizers()["optimizer"]
    for group in plain.param_groups:
        group["fused"] = False
    assert all(group["fused"] for group in fused.param_groups)
    torch.manual_seed(0)
    for _ in range(3):
        source = torch.randint(3, len(module.vocabulary), (8, 6))
        target = torch.cat([torch.ones(8, 1, dtype=torch.long), torch.randint(3, len(module.vocabulary), (8, 4))], 1)
        for net, optimizer in ((module, fused), (reference, plain)):
            optimizer.zero_grad()
            net.loss({"source": source, "target": target}).backward()
            optimizer.step()
    for (name, a), b in zip(module.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
