"""RSR and CRew against values computed by hand on a model whose logits are fixed.

The model is a bigram table: the logits at every position depend only on the current token,
so the log-probability of token b after token a is ``T[a, b] - logsumexp(T[a])`` and its rank
is ``1 + #{v : T[a, v] > T[a, b]}``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from coachgraph.errors import InputError
from coachgraph.models import crew, load_chat_model, rsr, rsr_dataset, score_completion
from coachgraph.models.scoring import TokenScores


class BigramLM(nn.Module):
    """Logits = table[input_ids]: whatever the test writes into the table."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = table

    def forward(self, input_ids: torch.Tensor, **_: object) -> SimpleNamespace:
        return SimpleNamespace(logits=self.table[input_ids])


@pytest.fixture
def bigram_chat(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32")
    vocab = len(chat.lm.tokenizer)
    return chat, vocab


def _ids(chat, text):
    return chat.lm.tokenizer(text, add_special_tokens=False)["input_ids"]


def _single_token_words(chat, count):
    words = "one two three four five six seven eight nine ten cat mat the a".split()
    singles = [w for w in words if len(_ids(chat, w)) == 1]
    assert len(singles) >= count
    return singles[:count]


def test_score_completion_reads_logprobs_and_ranks_by_hand(bigram_chat):
    chat, vocab = bigram_chat
    prompt_ids = _ids(chat, chat.lm.render([{"role": "user", "content": "cat"}]))
    word_a, word_b = _single_token_words(chat, 2)
    a, b = _ids(chat, word_a)[0], _ids(chat, word_b)[0]
    table = torch.zeros(vocab, vocab)
    last = prompt_ids[-1]
    table[last, a] = 2.0          # a is the single most likely token after the prompt: rank 1
    table[last, 5] = 3.0          # ... unless one token is higher: then a has rank 2
    table[a, b] = -1.0            # b is below every other token after a: rank vocab
    chat.lm.model = BigramLM(table)
    scores = score_completion(chat, "cat", [word_a, word_b])
    assert scores.token_ids == [a, b]
    lp_a = 2.0 - math.log(math.exp(2.0) + math.exp(3.0) + (vocab - 2))
    lp_b = -1.0 - math.log(math.exp(-1.0) + (vocab - 1))
    assert scores.logprobs == pytest.approx([lp_a, lp_b], abs=1e-5)
    assert scores.ranks == [2, vocab]
    assert scores.segments == [(0, 1), (1, 2)]
    # RSR clips ranks at 100: (2 + min(vocab, 100)) / (-lp_a - lp_b)
    assert rsr(scores) == pytest.approx((2 + min(vocab, 100)) / (-lp_a - lp_b), rel=1e-6)
    assert rsr(scores, max_rank=1) == pytest.approx(2 / (-lp_a - lp_b), rel=1e-6)


def test_crew_is_mean_answer_token_probability_by_hand(bigram_chat):
    chat, vocab = bigram_chat
    rationale, answer_text = "one", "two three"
    previous = _ids(chat, rationale)[-1:] + _ids(chat, answer_text)[:-1]
    answer = _ids(chat, answer_text)
    assert len(answer) >= 2 and len(set(previous)) == len(previous)
    table = torch.zeros(vocab, vocab)
    weights = [3.0 + 2 * k for k in range(len(answer))]
    for prev, token, w in zip(previous, answer, weights, strict=True):
        table[prev, token] = math.log(w)             # p = w / (w + vocab - 1)
    chat.lm.model = BigramLM(table)
    expected = sum(w / (w + vocab - 1) for w in weights) / len(weights)
    assert crew(chat, "cat", rationale, answer_text) == pytest.approx(expected, rel=1e-5)


def test_rsr_dataset_is_ratio_of_means():
    s1 = TokenScores([1, 2], ["a", "b"], [-1.0, -3.0], [1, 3], [(0, 2)])    # avg rank 2, avg nll 2
    s2 = TokenScores([3], ["c"], [-0.5], [200], [(0, 1)])                   # avg rank 100, nll 0.5
    assert rsr_dataset([s1, s2]) == pytest.approx(((2 + 100) / 2) / ((2 + 0.5) / 2))


def test_rsr_guards_zero_surprisal():
    s = TokenScores([1], ["a"], [0.0], [1], [(0, 1)])
    assert rsr(s) == pytest.approx(1 / 1e-12)


def test_empty_inputs_are_rejected(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}")
    with pytest.raises(InputError, match="prompt is empty"):
        score_completion(chat, " ", "x")
    with pytest.raises(InputError, match="completion"):
        score_completion(chat, "cat", "")
    with pytest.raises(InputError, match="answer"):
        crew(chat, "cat", "one", " ")
    with pytest.raises(InputError):
        rsr_dataset([])


def test_sampled_crew_reads_the_answer_tokens_probabilities_recorded_while_sampling(tiny_checkpoint):
    from coachgraph.models import sample_replies, sampled_crew

    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32")
    lm = chat.lm
    conversation = [{"role": "user", "content": "what is two plus three"}]
    reply = sample_replies(chat, [conversation], n=1, seed=3, temperature=1.0, max_tokens=8)[0][0]
    ids = list(reply.token_ids)
    pieces = [lm.detokenize(ids[:k + 1]) for k in range(len(ids))]
    text = lm.detokenize(ids)
    # a token whose text occurs in the answer for the last time where that token wrote it
    k = max(k for k in range(1, len(ids)) if len(pieces[k]) > len(pieces[k - 1])
            and text.rfind(pieces[k][len(pieces[k - 1]):]) == len(pieces[k - 1]))
    answer = pieces[k][len(pieces[k - 1]):]
    prompt = lm.tokenizer(lm.render(conversation), add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([prompt + ids])).logits[0, len(prompt) - 1:-1]
    logprob = float(torch.log_softmax(logits, -1)[k, ids[k]])
    assert sampled_crew(chat, ids, reply.logprobs, text, answer) == pytest.approx(math.exp(logprob), rel=1e-4)
    assert sampled_crew(chat, ids, reply.logprobs, text, "not in the text") is None
    assert sampled_crew(chat, ids, reply.logprobs[:-1], text, answer) is None
    assert sampled_crew(object(), ids, reply.logprobs, text, answer) is None
