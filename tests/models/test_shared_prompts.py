"""G samples of one prompt cost one prefill: the prompt's cache is copied to each sample's row,
and every sample is what it would be generated alone."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from coachgraph.models import load_chat_model
from coachgraph.models.decoders import HFDecoder
from coachgraph.models.llama_decoder import LlamaDecoder
from coachgraph.models.sampling import SamplingParams

CHATS = [[{"role": "user", "content": "what is two plus three"}], [{"role": "user", "content": "one two"}]]


def _tokens(completion) -> tuple[list[int], list[float]]:
    return [t.token_id for t in completion.tokens], [t.logprob for t in completion.tokens]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_samples_share_their_prompts_prefill_and_equal_samples_drawn_alone(tiny_checkpoint, precision):
    lm = load_chat_model(f"hf:{tiny_checkpoint}", precision=precision).lm
    params = SamplingParams(max_new_tokens=10, temperature=1.0, ignore_eos=True)
    decoder, prefilled = lm.decoder, []
    original = decoder.prefill

    def recording(input_ids, attention_mask, max_new):
        prefilled.append(input_ids.shape[0])
        return original(input_ids, attention_mask, max_new)

    decoder.prefill = recording
    together = lm.generate(CHATS, params, n=3, seed=7)
    assert prefilled == [2]  # six rows, two prompts
    for i, chat in enumerate(CHATS):
        for j in range(3):
            alone = lm.generate([chat], params, n=1, seed=7 + i * 3 + j)[0][0]
            assert _tokens(together[i][j]) == _tokens(alone)
    assert len({tuple(_tokens(c)[0]) for c in together[0]}) > 1  # the samples do differ


@pytest.mark.parametrize("kind", ["hf", "lean"])
def test_a_repeated_row_continues_from_its_own_copy(tiny_checkpoint, kind):
    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint).eval()
    tok = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tok.padding_side = "left"
    decoder = HFDecoder(model) if kind == "hf" else LlamaDecoder(model, precision="fp32")
    enc = tok(["what is two plus three", "cat"], return_tensors="pt", padding=True)
    with torch.inference_mode():
        decoder.prefill(enc["input_ids"], enc["attention_mask"], 4)
        decoder.keep(torch.tensor([0, 0, 1]))
        shared = decoder.step(torch.tensor([5, 9, 5]))
        single = tok(["what is two plus three"], return_tensors="pt")
        decoder.prefill(single["input_ids"], single["attention_mask"], 4)
        alone_first = decoder.step(torch.tensor([5]))
        decoder.prefill(single["input_ids"], single["attention_mask"], 4)
        alone_second = decoder.step(torch.tensor([9]))
    assert torch.equal(shared[0], alone_first[0]) and torch.equal(shared[1], alone_second[0])
    assert not torch.equal(shared[0], shared[1])
