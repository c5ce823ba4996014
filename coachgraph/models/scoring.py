"""Token scoring: the log-probability and rank of each token of a given completion.

A completion is scored under a model without generating: one forward pass over prompt and
completion on local models, prompt log-probs on vLLM and on OpenAI-compatible servers that echo
them. Two training-free signals are built on top:

- RSR, the rank-surprisal ratio (lower: a trajectory the student finds surprising yet ranks
  its tokens highly, i.e. good distillation data for that student);
- CRew, confidence as reward: the mean probability of the final-answer tokens given the
  question and the rationale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

import torch

from coachgraph.errors import InputError
from coachgraph.models.chat_local import LocalChatModel
from coachgraph.models.chat_vllm import VLLMChatModel, import_vllm
from coachgraph.models.local import Message

__all__ = ["TokenScores", "can_score", "crew", "rsr", "rsr_dataset", "sampled_crew", "score_completion"]

RSR_MAX_RANK = 100
"""Ranks are clipped here before summing (card 10)."""
RSR_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class TokenScores:
    """Scores of the completion tokens, in order.

    `segments` gives the ``[start, end)`` token range of each completion segment, so a caller
    that scored ``[rationale, answer]`` can read the answer's tokens alone.
    """

    token_ids: list[int]
    tokens: list[str]
    logprobs: list[float]
    ranks: list[int]
    segments: list[tuple[int, int]]

    def segment(self, index: int) -> TokenScores:
        """The scores of segment `index` only."""
        start, end = self.segments[index]
        return TokenScores(self.token_ids[start:end], self.tokens[start:end], self.logprobs[start:end],
                           self.ranks[start:end], [(0, end - start)])


def _as_messages(prompt: str | Sequence[Message]) -> list[Message]:
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    if not messages or not any(m["content"].strip() for m in messages):
        raise InputError("the prompt is empty: give a non-blank prompt", source="prompt")
    return messages


def _as_segments(completion: str | Sequence[str]) -> list[str]:
    segments = [completion] if isinstance(completion, str) else list(completion)
    if not "".join(segments):
        raise InputError("the completion to score is empty", source="completion")
    return segments


@singledispatch
def score_completion(model: Any, prompt: str | Sequence[Message], completion: str | Sequence[str]) -> TokenScores:
    """Per-token log-probs and ranks of `completion` after `prompt` under `model`.

    Args:
        model: a chat model from `load_chat_model` (local, vLLM or OpenAI-compatible).
        prompt: a user message, or a list of chat messages; the chat template is applied.
        completion: the assistant text, or a list of segments scored back to back.

    Raises:
        InputError: for an empty prompt or completion.
        NotImplementedError: for a model type that cannot score tokens.
    """
    raise NotImplementedError(f"token scoring is not available for {type(model).__name__}")


@score_completion.register
def _score_local(model: LocalChatModel, prompt: str | Sequence[Message], completion: str | Sequence[str]) -> TokenScores:
    lm = model.lm
    prompt_ids = lm.tokenizer(lm.render(_as_messages(prompt)), add_special_tokens=False)["input_ids"]
    pieces = [lm.tokenizer(s, add_special_tokens=False)["input_ids"] for s in _as_segments(completion)]
    completion_ids = [t for piece in pieces for t in piece]
    ids = torch.tensor([prompt_ids + completion_ids])
    with torch.inference_mode():
        logits = lm.model(input_ids=ids).logits[0, len(prompt_ids) - 1:-1].float()  # (T, vocab)
    return _scores_from_logits(logits, completion_ids, pieces, lm.tokenizer.decode)


@score_completion.register
def _score_vllm(model: VLLMChatModel, prompt: str | Sequence[Message], completion: str | Sequence[str]) -> TokenScores:
    vllm = import_vllm()
    tokenizer = model.engine.get_tokenizer()
    rendered = tokenizer.apply_chat_template(_as_messages(prompt), add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    pieces = [tokenizer(s, add_special_tokens=False)["input_ids"] for s in _as_segments(completion)]
    completion_ids = [t for piece in pieces for t in piece]
    params = vllm.SamplingParams(max_tokens=1, prompt_logprobs=0)
    output = model.engine.generate({"prompt_token_ids": prompt_ids + completion_ids}, params)[0]
    # Each prompt position holds the actual token's Logprob (with its rank) among the returned ones.
    entries = [output.prompt_logprobs[len(prompt_ids) + i][t] for i, t in enumerate(completion_ids)]
    bounds, start = [], 0
    for piece in pieces:
        bounds.append((start, start + len(piece)))
        start += len(piece)
    return TokenScores(completion_ids, [tokenizer.decode([t]) for t in completion_ids],
                       [e.logprob for e in entries], [int(e.rank) for e in entries], bounds)


def _scores_from_logits(
    logits: torch.Tensor, completion_ids: list[int], pieces: list[list[int]], decode: Any
) -> TokenScores:
    """Exact log-probs (log-softmax) and 1-based ranks (1 + tokens with a strictly larger logit)."""
    target = torch.tensor(completion_ids)
    chosen = logits.gather(1, target[:, None])  # (T, 1)
    logprobs = (chosen[:, 0] - torch.logsumexp(logits, dim=-1)).tolist()
    ranks = ((logits > chosen).sum(dim=-1) + 1).tolist()
    bounds, start = [], 0
    for piece in pieces:
        bounds.append((start, start + len(piece)))
        start += len(piece)
    return TokenScores(completion_ids, [decode([t]) for t in completion_ids], logprobs, ranks, bounds)


def can_score(model: Any) -> bool:
    """Whether `score_completion` (and so `crew`) can score tokens under `model`.

    >>> can_score(object())
    False
    """
    return score_completion.dispatch(type(model)) is not score_completion.dispatch(object)


def rsr(scores: TokenScores, max_rank: int = RSR_MAX_RANK) -> float:
    """Rank-surprisal ratio of one trajectory: ``sum(min(rank, max_rank)) / sum(-logprob)``.

    >>> s = TokenScores([1, 2], ["a", "b"], [-math.log(2), -math.log(4)], [1, 150], [(0, 2)])
    >>> round(rsr(s), 4)  # (1 + 100) / (ln 2 + ln 4)
    48.5707
    """
    ranks = sum(min(r, max_rank) for r in scores.ranks)
    surprisal = sum(-lp for lp in scores.logprobs)
    return ranks / max(surprisal, RSR_EPS)


def rsr_dataset(all_scores: Sequence[TokenScores], max_rank: int = RSR_MAX_RANK) -> float:
    """Dataset-level RSR: mean per-sample average rank over mean per-sample average surprisal."""
    scored = [s for s in all_scores if s.ranks]
    if not scored:
        raise InputError("no scored tokens to compute RSR over", source="scores")
    mean_rank = sum(sum(min(r, max_rank) for r in s.ranks) / len(s.ranks) for s in scored) / len(scored)
    mean_surprisal = sum(sum(-lp for lp in s.logprobs) / len(s.logprobs) for s in scored) / len(scored)
    return mean_rank / max(mean_surprisal, RSR_EPS)


def crew(model: Any, question: str | Sequence[Message], rationale: str, answer: str) -> float:
    """Confidence as reward: mean probability of the answer tokens given question and rationale."""
    if not answer.strip():
        raise InputError("the answer to score is empty", source="answer")
    answer_scores = score_completion(model, question, [rationale, answer]).segment(1)
    return sum(math.exp(lp) for lp in answer_scores.logprobs) / len(answer_scores.logprobs)


def sampled_crew(model: Any, token_ids: Sequence[int], logprobs: Sequence[float], text: str,
                 answer: str) -> float | None:
    """CRew of a sampled answer from the log-probs recorded while it was sampled: the mean
    probability of the tokens that spell the last occurrence of `answer` in `text`.

    The sampler records each chosen token's log-probability under the untempered distribution,
    so these are the model's own probabilities of its answer tokens given the question and its
    rationale, as `crew` computes them with a second forward pass; here the tokens are the ones
    sampled rather than the answer re-tokenized on its own. None when the model cannot map its
    tokens to text (not a local model), the log-probs do not match the tokens, or `answer` is
    not in `text`.
    """
    lm = getattr(model, "lm", None) if isinstance(model, LocalChatModel) else None
    start = text.rfind(answer) if answer else -1
    if lm is None or start < 0 or not token_ids or len(token_ids) != len(logprobs):
        return None
    end = start + len(answer)
    ends = [len(lm.detokenize(list(token_ids[:k + 1]))) for k in range(len(token_ids))]
    begins = [0, *ends[:-1]]
    chosen = [lp for lp, b, e in zip(logprobs, begins, ends, strict=True) if b < end and e > start]
    return sum(math.exp(lp) for lp in chosen) / len(chosen) if chosen else None
