"""The `llamacpp` backend: token picking (fast, pure numpy) and the real embedded GGUF file run by
llama.cpp (slow): the chat-model interface, log-probs, seeds, stops, and answers that do not
depend on earlier requests."""

from __future__ import annotations

import ctypes
import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
from langchain_core.messages import HumanMessage

from coachgraph.config import Settings, default_inference_model
from coachgraph.errors import InputError
from coachgraph.models import load_chat_model, parse_spec
from coachgraph.models.chat_llamacpp import LlamaCppLM, pick_token
from coachgraph.models.sampling import SamplingParams

needs_llama_cpp = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                     reason="llama-cpp-python (extra 'llamacpp') is not installed")


def test_spec_takes_an_optional_gguf_path():
    assert parse_spec("llamacpp") == ("llamacpp", "")
    assert parse_spec("llamacpp:/models/m.gguf") == ("llamacpp", "/models/m.gguf")


def test_inference_default_follows_the_environment(monkeypatch):
    monkeypatch.delenv("COACHGRAPH_INFERENCE_MODEL", raising=False)
    expected = "llamacpp" if importlib.util.find_spec("llama_cpp") else "smollm2"
    assert default_inference_model() == expected == Settings.from_env().inference_model
    monkeypatch.setenv("COACHGRAPH_INFERENCE_MODEL", "hf:/models/x")
    assert Settings.from_env().inference_model == "hf:/models/x"


def test_pick_token_greedy_reports_logprobs_and_sorted_alternatives():
    logits = np.array([1.0, 3.0, 2.0, -1.0], dtype=np.float32)
    token = pick_token(logits, SamplingParams(top_logprobs=3), None)
    expected = logits - np.log(np.exp(logits).sum())
    assert token.token_id == 1
    assert token.logprob == pytest.approx(expected[1])
    assert [i for i, _ in token.top] == [1, 2, 0]
    assert [lp for _, lp in token.top] == pytest.approx(expected[[1, 2, 0]])


def test_pick_token_samples_by_seed_within_top_p():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05], dtype=np.float32))
    params = SamplingParams(temperature=1.0, top_p=0.7)
    draws = [pick_token(logits, params, np.random.default_rng(seed)).token_id for seed in range(200)]
    again = [pick_token(logits, params, np.random.default_rng(seed)).token_id for seed in range(200)]
    assert draws == again
    assert set(draws) == {0, 1}  # 0.5 + 0.3 reaches 0.7; tokens 2 and 3 are cut
    assert 0.5 < draws.count(0) / len(draws) < 0.75


def test_a_null_logits_pointer_is_refused_before_it_is_read():
    engine = object.__new__(LlamaCppLM)
    engine.path, engine.n_vocab, engine.llama = "model.gguf", 8, SimpleNamespace(ctx=None)
    engine._logits_of = lambda ctx, index: ctypes.POINTER(ctypes.c_float)()
    with pytest.raises(RuntimeError, match="no logits after the last token fed to model.gguf"):
        engine._last_logits()
    row = (ctypes.c_float * 8)(*range(8))
    engine._logits_of = lambda ctx, index: ctypes.cast(row, ctypes.POINTER(ctypes.c_float))
    assert engine._last_logits().tolist() == list(range(8))


def test_missing_gguf_file_is_named(tmp_path):
    pytest.importorskip("llama_cpp")
    with pytest.raises(InputError, match="no GGUF file"):
        load_chat_model(f"llamacpp:{tmp_path / 'none.gguf'}")


@pytest.fixture(scope="module")
def llm():
    return load_chat_model("llamacpp", max_tokens=24)


@pytest.mark.slow
@needs_llama_cpp
class TestEmbeddedGGUF:
    def test_invoke_answers_with_logprobs_and_usage(self, llm):
        message = llm.invoke("What is 2+3?", top_logprobs=2)
        assert "5" in message.content
        entries = message.response_metadata["logprobs"]["content"]
        assert len(entries) == message.usage_metadata["output_tokens"] > 0
        assert message.usage_metadata["input_tokens"] > 10  # the chat template's system turn
        for entry in entries:
            assert entry["logprob"] <= 0.0 and len(entry["top_logprobs"]) == 2
            assert entry["logprob"] == pytest.approx(entry["top_logprobs"][0]["logprob"])  # greedy
        assert message.response_metadata["finish_reason"] == "stop"

    def test_stream_equals_invoke_and_stops_cut_the_text(self, llm):
        full = llm.invoke("Count from one to ten in words.").content
        assert "".join(chunk.text for chunk in llm.stream("Count from one to ten in words.")) == full
        stop = full.split()[3]
        cut = llm.invoke("Count from one to ten in words.", stop=[stop]).content
        assert stop not in cut and full.startswith(cut)
        assert "".join(c.text for c in llm.stream("Count from one to ten in words.", stop=[stop])) == cut

    def test_batch_and_n_samples(self, llm):
        prompts = ["Name a fruit.", "Say hello."]
        assert [m.content for m in llm.batch(prompts)] == [llm.invoke(p).content for p in prompts]
        first = llm.generate([[("human", "A number?")]], n=3, temperature=1.0, seed=5).generations[0]
        again = llm.generate([[HumanMessage("A number?")]], n=3, temperature=1.0, seed=5).generations[0]
        assert [g.text for g in first] == [g.text for g in again]
        assert len({g.text for g in first}) > 1

    def test_an_answer_does_not_depend_on_earlier_requests(self, llm):
        question = "What is the capital of France?"
        fresh = load_chat_model("llamacpp", max_tokens=24)
        expected = fresh.invoke(question, top_logprobs=1).response_metadata["logprobs"]
        for other in ("Write a haiku about rivers.", "What is the capital of Spain?", question):
            llm.invoke(other)
            assert llm.invoke(question, top_logprobs=1).response_metadata["logprobs"] == expected

    def test_prompt_and_budget_over_the_context_are_refused(self):
        small = load_chat_model("llamacpp", context=256, max_tokens=32)
        assert small.invoke("Tell me about the sea.").content
        with pytest.raises(InputError, match="exceeds the context of 256 tokens"):
            small.invoke("Tell me about the sea. " * 50)
