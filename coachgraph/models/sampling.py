"""Token sampling settings and the batched decode loop over a `Decoder`.

The loop keeps every row of a batch in one forward pass until the row stops (end token,
a stop string, or its token budget), records each chosen token's log-probability and, on
request, the top alternatives, so that callers get OpenAI-style log-probs from local models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

from coachgraph.models.decoders import Decoder

__all__ = ["DecodeResult", "SamplingParams", "TokenLogprob", "decode", "iter_decode"]


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How to pick tokens."""

    max_new_tokens: int = 256
    """Upper bound on generated tokens per sequence."""
    temperature: float = 0.0
    """0 means greedy decoding."""
    top_p: float = 1.0
    """Nucleus sampling mass; 1.0 keeps the whole distribution."""
    stop: tuple[str, ...] = ()
    """Strings that end a sequence; the text is cut before them."""
    top_logprobs: int = 0
    """How many alternatives to record per position (0: only the chosen token's)."""
    ignore_eos: bool = False
    """Keep generating past end tokens (benchmarks that need fixed lengths)."""


@dataclass(slots=True)
class TokenLogprob:
    """One generated token with its log-probability and the top alternatives."""

    token_id: int
    logprob: float
    top: list[tuple[int, float]] = field(default_factory=list)


@dataclass(slots=True)
class DecodeResult:
    """The generated tokens of one row and why it stopped (``"stop"`` or ``"length"``)."""

    tokens: list[TokenLogprob] = field(default_factory=list)
    finish_reason: str = "length"


_COMPACT_SHARE = 4
"""Finished rows leave the decoder's batch once they are this share (1/4) of it: dropping them
costs a copy of the KV cache, so it waits until it saves a worthwhile part of every later step."""


def _pick(
    logits: torch.Tensor, params: SamplingParams, generators: Sequence[torch.Generator]
) -> torch.Tensor:
    """Next token per row, shape (B,); each row draws from its own generator.

    Sampling inverts each row's cumulative distribution at one uniform draw of the row's
    generator: one scan of the batch, where `torch.multinomial` costs a millisecond per row of a
    49k vocabulary. Tokens of zero probability (cut by `top_p`) are never chosen.
    """
    if params.temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep = sorted_p.cumsum(-1) - sorted_p < params.top_p  # always keeps the top token
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p * keep)
    cdf = probs.double().cumsum(-1)
    draws = torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in generators])
    chosen = torch.searchsorted(cdf, (draws * cdf[:, -1])[:, None], right=True)[:, 0]
    return chosen.clamp_(max=probs.shape[-1] - 1)


def iter_decode(
    decoder: Decoder,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    params: SamplingParams,
    seeds: Sequence[int],
    eos_ids: Sequence[int],
    detokenize: Callable[[list[int]], str],
    results: list[DecodeResult],
    sources: Sequence[int] | None = None,
) -> Iterator[tuple[int, TokenLogprob]]:
    """Generate for a left-padded batch, yielding ``(row, token)`` as tokens are chosen.

    `results` (one empty `DecodeResult` per row) is filled in place. Each row samples from a
    generator seeded with its own seed, so a row's text does not depend on what else shares
    its batch. Stop strings are checked on the detokenized text of each row, so they work
    across token boundaries; the caller cuts the text at the stop string.

    With `sources`, the batch holds distinct prompts and row ``r`` continues prompt
    ``sources[r]``: each prompt is prefilled once and its cache copied to every row that
    continues it (G samples of one prompt cost one prefill).
    """
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    batch = list(range(len(sources) if sources is not None else input_ids.shape[0]))
    active = set(batch)  # `batch`: the original row of each position in the decoder's batch
    eos = torch.tensor(sorted(set(eos_ids)), dtype=torch.long)
    with torch.inference_mode():
        logits = decoder.prefill(input_ids, attention_mask, params.max_new_tokens).float()
        if sources is not None:
            decoder.keep(torch.tensor(list(sources)))
            logits = logits[list(sources)]
        for step in range(params.max_new_tokens):
            logprobs = torch.log_softmax(logits, dim=-1)
            chosen = _pick(logits, params, [generators[row] for row in batch])
            for pos, row in enumerate(batch):
                if row not in active:
                    continue
                token = _record(logprobs[pos], int(chosen[pos]), params.top_logprobs)
                results[row].tokens.append(token)
                yield row, token
                if _finished(results[row], token, eos, params, detokenize):
                    active.discard(row)
            if not active or step == params.max_new_tokens - 1:
                return
            if len(batch) - len(active) >= max(1, len(batch) // _COMPACT_SHARE):
                kept = [pos for pos, row in enumerate(batch) if row in active]
                decoder.keep(torch.tensor(kept))
                batch, chosen = [batch[pos] for pos in kept], chosen[kept]
            logits = decoder.step(chosen).float()


def decode(
    decoder: Decoder,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    params: SamplingParams,
    seeds: Sequence[int],
    eos_ids: Sequence[int],
    detokenize: Callable[[list[int]], str],
    sources: Sequence[int] | None = None,
) -> list[DecodeResult]:
    """`iter_decode` run to the end; returns one `DecodeResult` per row."""
    results = [DecodeResult() for _ in range(len(sources) if sources is not None else input_ids.shape[0])]
    for _ in iter_decode(decoder, input_ids, attention_mask, params, seeds, eos_ids, detokenize, results, sources):
        pass
    return results


def _record(logprobs: torch.Tensor, token_id: int, top_k: int) -> TokenLogprob:
    entry = TokenLogprob(token_id=token_id, logprob=float(logprobs[token_id]))
    if top_k > 0:
        values, ids = logprobs.topk(top_k)
        entry.top = [(int(i), float(v)) for i, v in zip(ids, values, strict=True)]
    return entry


def _finished(
    result: DecodeResult,
    token: TokenLogprob,
    eos: torch.Tensor,
    params: SamplingParams,
    detokenize: Callable[[list[int]], str],
) -> bool:
    if not params.ignore_eos and bool((eos == token.token_id).any()):
        result.finish_reason = "stop"
        return True
    if params.stop:
        text = detokenize([t.token_id for t in result.tokens])
        if any(s in text for s in params.stop):
            result.finish_reason = "stop"
            return True
    return False
