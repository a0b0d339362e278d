import numpy as np
import pytest
import torch

from lit_math.errors import ConfigError
from lit_math.model import Seq2SeqModule, Seq2SeqTransformer
from lit_math.model.module import lr_factor
from lit_math.tasks import GCDTask


def random_sources(n=64, length=11, vocab=15, seed=0):
    g = torch.Generator().manual_seed(seed)
    source = torch.randint(3, vocab, (n, length), generator=g)
    lengths = torch.randint(3, length + 1, (n,), generator=g)
    source[torch.arange(length)[None, :] >= lengths[:, None]] = 0
    return source


def greedy_without_cache(model, source):
    """The reference for the cache: each step decodes the whole prefix again."""
    memory, mask = model.encode(source)
    memory_kv = model.memory_kv(memory)
    prefix = torch.full((source.shape[0], 1), model.bos_id)
    done = torch.zeros(source.shape[0], dtype=torch.bool)
    for _ in range(model.max_target_len - 1):
        token = model.decode(prefix, memory_kv, mask)[0][:, -1].argmax(dim=-1)
        token = torch.where(done, torch.full_like(token, model.pad_id), token)
        prefix = torch.cat([prefix, token[:, None]], dim=1)
        done |= token == model.eos_id
        if bool(done.all()):
            break
    return prefix[:, 1:]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cached_decoding_equals_uncached_decoding(seed):
    torch.manual_seed(seed)
    model = Seq2SeqTransformer(15, 11, 9, d_model=32, n_enc_layers=2, n_dec_layers=3, n_heads=4).eval()
    for p in model.parameters():  # larger weights: more varied tokens, more chances for a mismatch
        p.data.mul_(20)
    source = random_sources(seed=seed)
    cached, uncached = model.generate(source), greedy_without_cache(model, source)
    assert cached.shape[1] == 8
    assert len(set(cached.flatten().tolist())) > 3
    assert torch.equal(cached, uncached)


def test_positions_are_sized_to_the_task():
    task = GCDTask(base=30)
    module = Seq2SeqModule(task=task.config(), d_model=16, n_enc_layers=1, n_dec_layers=1, n_heads=2)
    assert module.model.src_positions.num_embeddings == task.max_source_len == 13
    assert module.model.tgt_positions.num_embeddings == task.max_target_len == 8
    assert module.model.output.weight.shape[0] == len(task.vocabulary)
    with pytest.raises(ConfigError, match="exceeds the model's 13 positions"):
        module.model.encode(torch.ones(2, 14, dtype=torch.long))


def test_shared_embeddings_tie_decoder_input_and_output():
    tied = Seq2SeqTransformer(10, 5, 5, d_model=16, n_enc_layers=1, n_dec_layers=1, n_heads=2)
    untied = Seq2SeqTransformer(10, 5, 5, d_model=16, n_enc_layers=1, n_dec_layers=1, n_heads=2, share_embeddings=False)
    assert tied.output.weight is tied.tgt_tokens.weight
    assert untied.output.weight is not untied.tgt_tokens.weight
    assert sum(p.numel() for p in untied.parameters()) - sum(p.numel() for p in tied.parameters()) == 160


@pytest.mark.slow  # trains until it is right: minutes on a loaded 2-core machine
def test_model_overfits_a_tiny_fixed_batch():
    torch.manual_seed(0)
    task = GCDTask(base=10, max_int=1000)
    module = Seq2SeqModule(task=task.config(), d_model=64, n_enc_layers=1, n_dec_layers=1, n_heads=4)
    problems = task.sample(np.random.default_rng(0), 32)
    source, target = (torch.from_numpy(x) for x in task.encode(problems))
    batch = {"source": source, "target": target}
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    for _ in range(300):
        optimizer.zero_grad()
        loss = module.loss(batch)
        loss.backward()
        optimizer.step()
    module.eval()
    hypotheses = module.model.generate(source).numpy()
    assert task.score(problems, hypotheses).all(), f"loss {loss.item():.4f}"


def test_learning_rate_schedules():
    assert [lr_factor(s, 4, "constant", 100) for s in (0, 1, 3, 4, 50)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert lr_factor(15, 4, "inverse_sqrt", 100) == pytest.approx(0.5)
    assert lr_factor(4, 4, "cosine", 104) == pytest.approx(1.0)
    assert lr_factor(54, 4, "cosine", 104) == pytest.approx(0.5)
    assert lr_factor(104, 4, "cosine", 104) == pytest.approx(0.0)


@pytest.mark.parametrize("share_embeddings", [True, False])
def test_weight_decay_spares_biases_and_layer_norms(share_embeddings):
    """As nanoGPT: matrices (linear weights, embeddings) decay, 1-D parameters (biases, norms) do not."""
    sizes = dict(d_model=16, n_enc_layers=1, n_dec_layers=1, n_heads=2)
    module = Seq2SeqModule(task=GCDTask().config(), **sizes, weight_decay=0.1, share_embeddings=share_embeddings)
    groups = module.configure_optimizers()["optimizer"].param_groups
    decay = {p for g in groups if g["weight_decay"] == 0.1 for p in g["params"]}
    spared = {p for g in groups if g["weight_decay"] == 0.0 for p in g["params"]}
    grouped = [p for g in groups for p in g["params"]]
    parameters = list(module.parameters())
    assert len(grouped) == len(parameters) and set(grouped) == set(parameters)  # every one, exactly once
    assert decay == {p for p in parameters if p.dim() >= 2} and spared == {p for p in parameters if p.dim() < 2}
    names = {p: n for n, p in module.named_parameters()}
    assert any("norm" in names[p] for p in spared) and any(names[p].endswith("bias") for p in spared)
    assert module.model.tgt_tokens.weight in decay and module.model.src_positions.weight in decay
    plain = Seq2SeqModule(task=GCDTask().config(), **sizes, share_embeddings=share_embeddings)  # no decay at all:
    (group,) = plain.configure_optimizers()["optimizer"].param_groups  # one group, logged as plain `lr-AdamW`
    assert group["weight_decay"] == 0 and len(group["params"]) == len(list(plain.parameters()))


def test_a_run_with_decay_saved_as_one_group_resumes_with_its_moments():
    """Checkpoints written before the decay split hold one AdamW group: each parameter keeps its own state."""
    sizes = dict(d_model=16, n_enc_layers=1, n_dec_layers=1, n_heads=2)
    module = Seq2SeqModule(task=GCDTask().config(), **sizes, weight_decay=0.1)
    before = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=0.1)  # the old optimiser
    for i, parameter in enumerate(module.parameters()):
        parameter.grad = torch.full_like(parameter, float(i + 1))
    before.step()
    checkpoint = {
        "optimizer_states": [before.state_dict()],
        "lr_schedulers": [{"base_lrs": [1e-3], "_last_lr": [1e-3]}],
    }
    module._regroup_for_decay(checkpoint)
    after = module.configure_optimizers()["optimizer"]
    after.load_state_dict(checkpoint["optimizer_states"][0])
    for i, parameter in enumerate(module.parameters()):
        assert torch.equal(after.state[parameter]["exp_avg"], before.state[parameter]["exp_avg"]), i
    assert [g["weight_decay"] for g in after.param_groups] == [0.1, 0.0]
    assert checkpoint["lr_schedulers"][0]["base_lrs"] == [1e-3, 1e-3]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"d_model": 64, "n_heads": 5}, "n_heads=5 must divide d_model=64"),
        ({"n_enc_layers": 0}, "n_enc_layers must be an integer >= 1, got 0"),
        ({"schedule": "linear"}, "schedule must be one of constant, inverse_sqrt, cosine; got 'linear'"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_bad_model_configuration(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Seq2SeqModule(task=GCDTask().config(), **kwargs)
