"""A greedy answer does not depend on what else shares its batch, in every precision.

Concurrent calls are coalesced into shared batches, so without this one user's answer would
depend on another user's request. Checked at three levels: the linear kernels (a row alone
against the same row inside larger matrices), the decoders (logits alone against logits in
mixed batches), and generation (tokens and log-probs alone against mixed batches of prompts of
different lengths, with rows leaving the batch early), on the tiny checkpoint and, marked slow,
on the embedded SmolLM2.
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from coachgraph.models import load_chat_model
from coachgraph.models.decoders import HFDecoder
from coachgraph.models.linears import PRECISIONS
from coachgraph.models.llama_decoder import LlamaDecoder
from coachgraph.models.sampling import SamplingParams

PRECISION_NAMES = sorted(PRECISIONS)
TINY_PROMPTS = ["what is two plus three", "cat", "once upon a time a cat sat on a mat near the river", "one two"]


def _tokens(completions: list) -> list[tuple[list[int], list[float]]]:
    return [([t.token_id for t in c[0].tokens], [t.logprob for t in c[0].tokens]) for c in completions]


def _alone_and_mixed(lm, prompts: list[str], params: SamplingParams) -> None:
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    alone = [_tokens(lm.generate([c], params))[0] for c in conversations]
    assert _tokens(lm.generate(conversations, params)) == alone
    reordered = [3, 1, 0] if len(prompts) > 3 else [1, 0]
    mixed = _tokens(lm.generate([conversations[i] for i in reordered] + [[{"role": "user", "content": "a b c d e"}]],
                                params))
    assert mixed[:len(reordered)] == [alone[i] for i in reordered]


@pytest.mark.parametrize("precision", PRECISION_NAMES)
@pytest.mark.parametrize("rows", [1, 3, 5, 8])
def test_linear_rows_do_not_depend_on_the_other_rows(precision, rows):
    generator = torch.Generator().manual_seed(rows)
    layer = PRECISIONS[precision](torch.randn(96, 80, generator=generator) * 0.1)
    x = torch.randn(40, 80, generator=generator) * torch.rand(40, 1, generator=generator) * 4

    with torch.inference_mode():
        alone = torch.cat([layer(x[i:i + 1]) for i in range(rows)])
        for start in (0, 1, 7):
            assert torch.equal(layer(x[start:start + rows]), torch.cat([layer(x[i:i + 1]) for i in range(start, start + rows)]))
        assert torch.equal(layer(x)[:rows], alone)


@pytest.mark.parametrize("kind", ["lean-fp32", "lean-bf16", "lean-int8", "hf"])
def test_decoder_logits_alone_equal_logits_in_a_mixed_batch(tiny_checkpoint, kind):
    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint).eval()
    tok = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tok.padding_side = "left"
    decoder = HFDecoder(model) if kind == "hf" else LlamaDecoder(model, precision=kind.split("-")[1])

    def run(texts: list[str]) -> list[torch.Tensor]:
        enc = tok(texts, return_tensors="pt", padding=True)
        logits = [decoder.prefill(enc["input_ids"], enc["attention_mask"], 6)]
        for _ in range(5):
            logits.append(decoder.step(logits[-1].argmax(-1)))
        return logits

    with torch.inference_mode():
        mixed = run(TINY_PROMPTS)
        for row, text in enumerate(TINY_PROMPTS):
            alone = run([text])
            assert all(torch.equal(m[row], a[0]) for m, a in zip(mixed, alone, strict=True))


@pytest.mark.parametrize("precision", PRECISION_NAMES)
def test_greedy_tokens_alone_equal_tokens_in_mixed_batches(tiny_checkpoint, precision):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision=precision)
    _alone_and_mixed(chat.lm, TINY_PROMPTS, SamplingParams(max_new_tokens=12, ignore_eos=True))


@pytest.mark.parametrize("precision", PRECISION_NAMES)
def test_rows_leaving_early_do_not_change_the_others(tiny_checkpoint, precision):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision=precision)
    free = chat.lm.generate([[{"role": "user", "content": p}] for p in TINY_PROMPTS],
                            SamplingParams(max_new_tokens=12, ignore_eos=True))
    texts = [c[0].text for c in free]
    pieces = {chat.lm.detokenize([t.token_id]) for c in free for t in c[0].tokens}
    stop = next(p for p in sorted(pieces) if p.strip() and 0 < sum(p in t for t in texts) < len(texts))
    _alone_and_mixed(chat.lm, TINY_PROMPTS, SamplingParams(max_new_tokens=12, ignore_eos=True, stop=(stop,)))


@pytest.mark.slow
@pytest.mark.parametrize("precision", PRECISION_NAMES)
def test_smollm2_greedy_answers_do_not_depend_on_their_batch(precision):
    chat = load_chat_model("smollm2", precision=precision)
    prompts = ["What is 2 + 3?", "Name three planets.", "Hi",
               "Explain addition with carrying to a child, with two worked examples."]
    _alone_and_mixed(chat.lm, prompts, SamplingParams(max_new_tokens=16, ignore_eos=True))
