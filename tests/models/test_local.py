"""The local backend on a tiny real checkpoint: exactness, batch invariance, sampling, streaming."""

from __future__ import annotations

import threading

import pytest
import torch
from langchain_core.messages import HumanMessage
from transformers import AutoModelForCausalLM, AutoTokenizer

from coachgraph.errors import InputError
from coachgraph.models import load_chat_model
from coachgraph.models.decoders import HFDecoder
from coachgraph.models.llama_decoder import LlamaDecoder
from coachgraph.models.sampling import SamplingParams

PROMPTS = ["what is two plus three", "once upon a time", "one two three"]


def _hf_greedy(path, prompts, new_tokens):
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    texts = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                     tokenize=False) for p in prompts]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    out = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False, min_new_tokens=new_tokens)
    return out[:, enc["input_ids"].shape[1]:].tolist()


def test_lean_decoder_matches_transformers_logits(tiny_checkpoint):
    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint).eval()
    tok = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tok.padding_side = "left"
    enc = tok(["one two three four", "cat"], return_tensors="pt", padding=True)
    lean, ref = LlamaDecoder(model, precision="fp32"), HFDecoder(model)
    with torch.inference_mode():
        a = lean.prefill(enc["input_ids"], enc["attention_mask"], 4)
        b = ref.prefill(enc["input_ids"], enc["attention_mask"], 4)
        assert torch.allclose(a, b, atol=1e-4)
        for _ in range(3):
            nxt = b.argmax(-1)
            a, b = lean.step(nxt), ref.step(nxt)
            assert torch.allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("kind", ["lean", "hf"])
def test_keep_drops_rows_without_changing_the_others(tiny_checkpoint, kind):
    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint).eval()
    tok = AutoTokenizer.from_pretrained(tiny_checkpoint)
    tok.padding_side = "left"
    enc = tok(["one two three four", "cat", "a b"], return_tensors="pt", padding=True)
    make = (lambda: LlamaDecoder(model, precision="fp32")) if kind == "lean" else (lambda: HFDecoder(model))
    full, kept = make(), make()
    with torch.inference_mode():
        a = full.prefill(enc["input_ids"], enc["attention_mask"], 4)
        b = kept.prefill(enc["input_ids"], enc["attention_mask"], 4)
        rows = torch.tensor([2, 0])
        kept.keep(rows)
        for _ in range(3):
            nxt = a.argmax(-1)
            a, b = full.step(nxt), kept.step(nxt[rows])
            assert b.shape[0] == 2
            assert torch.equal(a[rows], b)


def test_finished_rows_leave_the_batch(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32", max_tokens=10)
    rows = [[{"role": "user", "content": p}] for p in PROMPTS]
    free = chat.lm.generate(rows, SamplingParams(max_new_tokens=10, ignore_eos=True))
    texts = [c[0].text for c in free]
    pieces = {chat.lm.detokenize([t.token_id]) for c in free for t in c[0].tokens}
    # a stop string that ends some rows early and never ends others
    stop = next(p for p in sorted(pieces) if p.strip() and 0 < sum(p in t for t in texts) < len(texts))
    params = SamplingParams(max_new_tokens=10, ignore_eos=True, stop=(stop,))
    sizes = []
    original = type(chat.lm.decoder).step

    def counting(self, tokens):
        sizes.append(tokens.shape[0])
        return original(self, tokens)

    type(chat.lm.decoder).step = counting
    try:
        batched = chat.lm.generate(rows, params)
    finally:
        type(chat.lm.decoder).step = original
    singles = [chat.lm.generate([r], params)[0] for r in rows]
    assert [c[0].text for c in batched] == [c[0].text for c in singles]
    assert min(sizes) < len(PROMPTS)


def test_fp32_greedy_batch_equals_transformers_generate(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32", max_tokens=6)
    expected = _hf_greedy(tiny_checkpoint, PROMPTS, 6)
    completions = chat.lm.generate([[{"role": "user", "content": p}] for p in PROMPTS],
                                   SamplingParams(max_new_tokens=6, ignore_eos=True))
    assert [[t.token_id for t in c[0].tokens] for c in completions] == expected


def test_batch_shares_forward_passes(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32", max_tokens=5)
    singles = [chat.invoke(p).content for p in PROMPTS]
    prefills = []
    original = type(chat.lm.decoder).prefill

    def counting(self, ids, mask, max_new):
        prefills.append(ids.shape[0])
        return original(self, ids, mask, max_new)

    type(chat.lm.decoder).prefill = counting
    try:
        batched = chat.batch(PROMPTS)
    finally:
        type(chat.lm.decoder).prefill = original
    assert [m.content for m in batched] == singles
    assert sum(prefills) == len(PROMPTS) and len(prefills) < len(PROMPTS)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_n_samples_are_seeded_and_independent_of_batching(tiny_checkpoint, precision):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision=precision, temperature=1.0, max_tokens=8, seed=7)
    first = chat.generate([[HumanMessage(PROMPTS[0])]], n=4).generations[0]
    again = chat.generate([[HumanMessage(PROMPTS[0])]], n=4).generations[0]
    assert [g.text for g in first] == [g.text for g in again]
    assert len({g.text for g in first}) > 1  # temperature 1 gives different samples
    lm = chat.lm
    params = SamplingParams(max_new_tokens=8, temperature=1.0)
    alone = lm.generate([[{"role": "user", "content": PROMPTS[1]}]], params, seed=3)[0][0].text
    mixed = lm.generate([[{"role": "user", "content": PROMPTS[1]}], [{"role": "user", "content": "cat"}]],
                        params, seed=3)[0][0].text
    assert alone == mixed


def test_logprobs_and_usage_in_metadata(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", max_tokens=4, top_logprobs=3)
    message = chat.invoke(PROMPTS[0])
    entries = message.response_metadata["logprobs"]["content"]
    assert len(entries) == message.usage_metadata["output_tokens"] > 0
    for entry in entries:
        assert entry["logprob"] <= 0.0
        assert len(entry["top_logprobs"]) == 3
        # greedy: the chosen token is the most likely one
        assert entry["logprob"] == pytest.approx(entry["top_logprobs"][0]["logprob"])


def test_stop_strings_and_streaming(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", max_tokens=12, precision="fp32")
    full = chat.invoke(PROMPTS[2]).content
    streamed = "".join(chunk.text for chunk in chat.stream(PROMPTS[2]))
    assert streamed == full and full
    stop = full.strip()[len(full.strip()) // 2:][:3]
    cut = chat.invoke(PROMPTS[2], stop=[stop]).content
    assert stop not in cut and full.startswith(cut)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_concurrent_callers_are_coalesced(tiny_checkpoint, precision):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision=precision, max_tokens=4)
    expected = {p: chat.invoke(p).content for p in PROMPTS}
    results: dict[str, str] = {}
    threads = [threading.Thread(target=lambda p=p: results.__setitem__(p, chat.invoke(p).content))
               for p in PROMPTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


def test_empty_prompt_is_rejected(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}")
    with pytest.raises(InputError, match="empty"):
        chat.invoke("   ")


def test_weights_changed_rebuilds_decoder(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32", max_tokens=6)
    before = chat.invoke(PROMPTS[0]).content
    with torch.no_grad():
        chat.lm.model.lm_head.weight.mul_(-1.0)
    chat.lm.weights_changed()
    assert chat.invoke(PROMPTS[0]).content != before


def test_int8_decoder_tracks_fp32_logits(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="int8")
    exact = load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32")
    ids, mask = chat.lm.encode([chat.lm.render([{"role": "user", "content": p}]) for p in PROMPTS])
    with torch.inference_mode():
        a = chat.lm.decoder.prefill(ids, mask, 1)
        b = exact.lm.decoder.prefill(ids, mask, 1)
    cosine = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    assert bool((cosine > 0.98).all())


def test_smoothing_preserves_the_float_function(tiny_checkpoint):
    from coachgraph.models.smoothing import calibrate, smooth

    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint).eval()
    tok = AutoTokenizer.from_pretrained(tiny_checkpoint)
    enc = tok(["one two three four", "once upon a time"], return_tensors="pt", padding=True)
    plain, smoothed = LlamaDecoder(model, precision="fp32"), LlamaDecoder(model, precision="fp32")
    with torch.inference_mode():
        stats = calibrate(smoothed, lambda: smoothed.prefill(enc["input_ids"], enc["attention_mask"], 0))
        assert set(stats) == set(smoothed.linears())
        smooth(smoothed, stats)
        a = plain.prefill(enc["input_ids"], enc["attention_mask"], 0)
        b = smoothed.prefill(enc["input_ids"], enc["attention_mask"], 0)
    assert not torch.equal(plain.blocks[0].norm_in, smoothed.blocks[0].norm_in)
    assert torch.allclose(a, b, atol=1e-3, rtol=1e-4)


def test_building_the_int8_decoder_leaves_the_model_weights_alone(tiny_checkpoint):
    chat = load_chat_model(f"hf:{tiny_checkpoint}", precision="int8")
    before = {k: v.clone() for k, v in chat.lm.model.state_dict().items()}
    assert chat.lm.decoder is not None  # built now: calibration, smoothing, quantization
    after = chat.lm.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
