"""Beam search: greedy at one beam, sorted, scores that are the model's, and acc@k."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lit_math.errors import ConfigError
from lit_math.model.beam import beam_search
from lit_math.model.transformer import Seq2SeqTransformer

from .helpers import tiny_data, tiny_model, trainer


def random_model(seed=0):
    torch.manual_seed(seed)
    model = Seq2SeqTransformer(15, 11, 9, d_model=32, n_enc_layers=2, n_dec_layers=2, n_heads=4).double().eval()
    for p in model.parameters():  # sharper distributions: EOS at varied steps, a real search
        p.data.mul_(20)
    return model


def sources(n=48, seed=0):
    return torch.randint(3, 15, (n, 11), generator=torch.Generator().manual_seed(seed))


def padded(t, length):
    return F.pad(t, (0, length - t.shape[-1]))


@pytest.mark.parametrize("seed", [0, 1])
def test_one_beam_is_greedy(seed):
    model, src = random_model(seed), sources(seed=seed)
    greedy = model.generate(src)
    beam, _ = beam_search(model, src, 1)
    length = max(greedy.shape[1], beam.shape[2])
    assert torch.equal(padded(greedy, length), padded(beam[:, 0], length))


def sequence_log_prob(model, source, tokens):
    """Teacher-forced log probability of `tokens` (ending with EOS), without any cache."""
    target = torch.cat([torch.tensor([model.bos_id]), tokens])[None]
    log_probs = F.log_softmax(model(source[None], target[:, :-1]).double(), dim=-1)[0]
    return float(log_probs.gather(1, tokens[:, None]).sum())


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_hypotheses_are_sorted_and_scored_by_the_model(length_penalty):
    model, src = random_model(), sources(n=12)
    ids, scores = beam_search(model, src, 4, length_penalty=length_penalty, early_stopping=False)
    assert ids.shape[:2] == (12, 4)
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    checked = 0
    for i in range(12):
        for j in range(4):
            tokens = ids[i, j]  # finished: up to EOS; cut by the length limit: every position
            if model.eos_id in tokens.tolist():
                tokens = tokens[: tokens.tolist().index(model.eos_id) + 1]
            expected = sequence_log_prob(model, src[i], tokens) / len(tokens) ** length_penalty
            assert float(scores[i, j]) == pytest.approx(expected, rel=1e-5)  # scores are kept in float32
            checked += 1
        assert len({tuple(ids[i, j].tolist()) for j in range(4)}) == 4  # distinct hypotheses
    assert checked == 48


def test_a_wider_beam_finds_hypotheses_at_least_as_likely():
    model, src = random_model(), sources()
    _, narrow = beam_search(model, src, 1, length_penalty=0.0, early_stopping=False)
    _, wide = beam_search(model, src, 6, length_penalty=0.0, early_stopping=False)
    assert (wide[:, 0] >= narrow[:, 0] - 1e-6).float().mean() > 0.95


def test_bad_beam_size():
    with pytest.raises(ConfigError, match="beam_size must be an integer >= 1, got 0"):
        beam_search(random_model(), sources(n=2), 0)


def test_validation_logs_accuracy_within_the_beam(tmp_path):
    data = tiny_data(per_class=3)
    module = tiny_model(data, beam_size=4)
    trainer(tmp_path, max_steps=20, limit_val_batches=0, num_sanity_val_steps=0).fit(module, data)
    metrics = {k: v for d in trainer(tmp_path).validate(module, data, verbose=False) for k, v in d.items()}
    assert metrics["val/natural/acc@4"] >= metrics["val/natural/acc"]
    answers = module.answer(next(iter(data.val_dataloader()[0])))
    per_k = [
        np.mean(
            [
                any(module.task.score(answers["problems"], answers["beams"][:, : k + 1][:, j])[i] for j in range(k + 1))
                for i in range(len(answers["correct"]))
            ]
        )
        for k in range(4)
    ]
    assert per_k == sorted(per_k)  # acc@k grows with k
    assert per_k[0] == answers["correct"].mean() and per_k[-1] == answers["correct_in_beam"].mean()
