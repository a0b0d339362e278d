"""Beam search over any network (`Translator`), incremental with its decoding state (a transformer's key/value
cache, a recurrent network's hidden state).

Finished hypotheses leave the beam for a pool of the best `beam_size` per source, ranked by their log
probability divided by length ** length_penalty; the beam goes on with the best unfinished continuations.
With one beam this is exactly greedy decoding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_math.errors import check_int
from lit_math.model.translator import Translator


class _Pool:
    """The best finished hypotheses of one source."""

    def __init__(self, size: int, length_penalty: float, early_stopping: bool) -> None:
        self.size, self.length_penalty, self.early_stopping = size, length_penalty, early_stopping
        self.hypotheses: list[tuple[float, list[int]]] = []

    def add(self, log_prob: float, tokens: list[int]) -> None:
        self.hypotheses.append((log_prob / len(tokens) ** self.length_penalty, tokens))
        self.hypotheses.sort(key=lambda h: -h[0])
        del self.hypotheses[self.size :]

    def done(self, best_active: float, length: int) -> bool:
        """Full, and (without early stopping) no active beam can still beat the worst hypothesis kept."""
        if len(self.hypotheses) < self.size:
            return False
        return self.early_stopping or best_active / length**self.length_penalty <= self.hypotheses[-1][0]


@torch.no_grad()
def beam_search(
    model: Translator,
    source: Tensor,
    beam_size: int,
    max_len: int | None = None,
    length_penalty: float = 1.0,
    early_stopping: bool = True,
) -> tuple[Tensor, Tensor]:
    """The `beam_size` best hypotheses per source, best first.

    Returns ids (N, beam_size, L) after BOS (EOS, then PAD), and their scores (N, beam_size): log probability
    over length ** length_penalty. A source whose search ends before `beam_size` hypotheses finished is
    completed with its best unfinished beams (no EOS: a task scores them wrong).
    """
    b = check_int("beam_size", beam_size, 1)
    max_len = model.decode_len(max_len)
    n, device = source.shape[0], source.device
    state = model.reorder(model.start(source), torch.arange(n, device=device).repeat_interleave(b))
    tokens = torch.full((n * b, 1), model.bos_id, dtype=torch.long, device=device)
    scores = torch.full((n, b), float("-inf"), device=device)
    scores[:, 0] = 0.0  # all beams start equal: expand only the first
    pools = [_Pool(b, length_penalty, early_stopping) for _ in range(n)]
    done = [False] * n
    for step in range(max_len):
        logits, state = model.step(tokens[:, -1], state, step)
        log_probs = F.log_softmax(logits.float(), dim=-1)
        vocab = log_probs.shape[-1]
        candidates = (scores.reshape(-1, 1) + log_probs).reshape(n, b * vocab)
        top_scores, top_index = candidates.topk(2 * b, dim=1)
        rows, next_tokens, next_scores = [], [], []
        history = tokens[:, 1:].tolist()
        for i, (row_scores, row_index) in enumerate(zip(top_scores.tolist(), top_index.tolist(), strict=True)):
            chosen = []
            if not done[i]:
                for rank, (score, index) in enumerate(zip(row_scores, row_index, strict=True)):
                    beam, token = divmod(index, vocab)
                    if token == model.eos_id:
                        if rank < b:  # an EOS beyond the best b candidates would not have survived anyway
                            pools[i].add(score, [*history[i * b + beam], token])
                    elif score > float("-inf"):
                        chosen.append((score, i * b + beam, token))
                    if len(chosen) == b:
                        break
                done[i] = not chosen or pools[i].done(chosen[0][0], step + 1)
            chosen += [(float("-inf"), i * b, model.pad_id)] * (b - len(chosen))
            for score, row, token in chosen:
                rows.append(row)
                next_tokens.append(token)
                next_scores.append(score)
        order = torch.tensor(rows, device=device)
        tokens = torch.cat([tokens[order], torch.tensor(next_tokens, device=device)[:, None]], dim=1)
        state = model.reorder(state, order)
        scores = torch.tensor(next_scores, device=device).reshape(n, b)
        if all(done):
            break
    unfinished = tokens[:, 1:].tolist()
    for i, pool in enumerate(pools):  # a search cut by max_len: complete the pool with its active beams
        for beam in range(b):
            if len(pool.hypotheses) >= b:
                break
            score = float(scores[i, beam])
            if score > float("-inf") and not done[i]:
                pool.add(score, unfinished[i * b + beam])
    return _pad(pools, b, model.pad_id, device)


def _pad(pools: list[_Pool], b: int, pad: int, device: torch.device) -> tuple[Tensor, Tensor]:
    length = max((len(tokens) for pool in pools for _, tokens in pool.hypotheses), default=1)
    ids = torch.full((len(pools), b, length), pad, dtype=torch.long)
    scores = torch.full((len(pools), b), float("-inf"))
    for i, pool in enumerate(pools):
        for j, (score, tokens) in enumerate(pool.hypotheses):
            ids[i, j, : len(tokens)] = torch.tensor(tokens)
            scores[i, j] = score
    return ids.to(device), scores.to(device)
