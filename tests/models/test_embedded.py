"""Integration tests on the real embedded models: SmolLM2-135M-Instruct and all-MiniLM-L6-v2."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from coachgraph.models import crew, load_chat_model, load_embeddings, rsr, score_completion
from coachgraph.models.weights import cached_checkpoint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    return load_chat_model("smollm2", max_tokens=24)


def test_conversion_is_cached_as_safetensors(smollm2):
    folder = cached_checkpoint("smollm2")
    assert (folder / "model.safetensors").is_file()
    assert (folder / "config.json").is_file() and "quantization_config" not in (folder / "config.json").read_text()


def test_smollm2_answers_and_reports_logprobs(smollm2):
    message = smollm2.invoke("What is 2+3? Answer with a number.")
    assert message.content.strip()
    assert "5" in message.content
    logprobs = message.response_metadata["logprobs"]["content"]
    assert len(logprobs) == message.usage_metadata["output_tokens"]
    assert all(e["logprob"] <= 0 for e in logprobs)


def test_smollm2_batch_matches_single_calls_in_fp32():
    exact = load_chat_model("smollm2", precision="fp32", max_tokens=16)
    prompts = ["What is 2+3?", "Name a fruit.", "Say hello."]
    singles = [exact.invoke(p).content for p in prompts]
    assert [m.content for m in exact.batch(prompts)] == singles


def test_rsr_and_crew_on_smollm2(smollm2):
    question = "What is 2+3? Answer with a number."
    confident = crew(smollm2, question, "2 + 3 = ", "5")
    wrong = crew(smollm2, question, "2 + 3 = ", "9")
    assert 0.0 < wrong < confident <= 1.0
    natural = score_completion(smollm2, question, "The answer is 5.")
    odd = score_completion(smollm2, question, "Purple elephants dance quietly.")
    assert all(r >= 1 for r in natural.ranks + odd.ranks)
    # the odd completion is far more surprising per token
    assert -sum(odd.logprobs) / len(odd.logprobs) > -sum(natural.logprobs) / len(natural.logprobs)
    assert math.isfinite(rsr(natural)) and rsr(natural) > 0


def test_cli_generate_prints_a_completion():
    out = subprocess.run(
        [sys.executable, "-m", "coachgraph.cli.main", "generate", "--model", "smollm2", "--max-tokens", "16",
         "What is 2+3?"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_minilm_embeddings_are_normalized_and_semantic():
    emb = load_embeddings("minilm")
    docs = emb.embed_documents(["add two numbers", "sum of integers", "bake a chocolate cake"])
    query = np.array(emb.embed_query("addition of numbers"))
    vectors = np.array(docs)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ query
    assert sims[0] > sims[2] and sims[1] > sims[2]


def test_minilm_onnx_equals_sentence_transformers_in_short_and_long_batches():
    emb, reference_model = load_embeddings("minilm"), load_embeddings("minilm-torch").model
    texts = ["add two-digit numbers with carrying", "sum", "book a flight from Paris to Rome and a hotel"]
    many = [f"{t} number {i}" for i in range(7) for t in texts]  # past the short-batch path
    for batch in (texts, many):
        reference = reference_model.encode(batch, normalize_embeddings=True, convert_to_numpy=True)
        assert np.allclose(np.array(emb.embed_documents(batch)), reference, atol=1e-5)
    reference = reference_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(emb.embed_query(texts[1]), reference[1], atol=1e-5)


def test_onnx_batches_run_side_by_side_give_the_vectors_of_one_thread():
    from coachgraph.models.embeddings import minilm_path
    from coachgraph.models.onnx_embeddings import OnnxEmbeddings

    texts = ["add two-digit numbers with carrying", "sum", "book a flight from Paris to Rome and a hotel",
             "then check the weather in Rome for the week of the trip", "convert 30 euros to dollars"]
    many = [f"{t} number {i}" for i in range(5) for t in texts]  # several batches of 4
    # The exact graph: the int8 one scales activations per batch, so its vectors move with batching.
    one = OnnxEmbeddings(minilm_path(), threads=1, batch_size=4)
    three = OnnxEmbeddings(minilm_path(), threads=3, batch_size=4)
    for batch in (texts, many):
        assert np.allclose(one.embed_documents(batch), three.embed_documents(batch), atol=1e-5)


def test_minilm_int8_stays_close_to_the_exact_vectors_and_ranks_alike():
    exact, quantized = load_embeddings("minilm"), load_embeddings("minilm-int8")
    docs = ["add two numbers", "sum of integers", "bake a chocolate cake", "book a train ticket"]
    a, b = np.array(exact.embed_documents(docs)), np.array(quantized.embed_documents(docs))
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.9
    query = np.array(quantized.embed_query("addition of numbers"))
    assert int(np.argmax(b @ query)) in (0, 1) and np.argmin(b @ query) in (2, 3)


def test_onnx_export_is_made_once_per_cache_and_reused(tmp_path, monkeypatch):
    from coachgraph.models.embeddings import minilm_path
    from coachgraph.models.onnx_embeddings import OnnxEmbeddings

    monkeypatch.setenv("COACHGRAPH_CACHE_DIR", str(tmp_path))
    first = OnnxEmbeddings(minilm_path())
    (exported,) = (tmp_path / "onnx").iterdir()
    assert {p.name for p in exported.iterdir()} >= {"model.onnx", "model-int8.onnx", "meta.json"}
    stamp = (exported / "model.onnx").stat().st_mtime_ns
    second = OnnxEmbeddings(minilm_path(), quantized=True)
    assert (exported / "model.onnx").stat().st_mtime_ns == stamp  # reused, not exported again
    assert not [p for p in (tmp_path / "onnx").iterdir() if p.name.startswith(".export-")]
    assert (np.array(first.embed_query("sum")) @ np.array(second.embed_query("sum"))) > 0.9