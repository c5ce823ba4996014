"""`LocalChatModel`: a langchain-core chat model over a `LocalLM` (the `smollm2` and `hf:` specs).

Everything a chat model user expects works: `invoke`, `stream`, `batch` (really batched: the
calls of one `batch()` share forward passes), `generate` with ``n`` samples per prompt,
sampling settings per call, and OpenAI-style token log-probs in ``response_metadata``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list
from pydantic import ConfigDict, Field

from coachgraph.errors import InputError
from coachgraph.models.local import Completion, LocalLM, Message
from coachgraph.models.sampling import SamplingParams

__all__ = ["LocalChatModel", "to_chat_messages"]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "chat": "user"}


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """langchain messages as chat-template messages; rejects an empty or blank prompt."""
    converted = [{"role": _ROLES.get(m.type, m.type), "content": m.text} for m in messages]
    if not converted or not any(m["content"].strip() for m in converted):
        raise InputError("the prompt is empty: give a non-blank message", source="messages")
    return converted


class LocalChatModel(BaseChatModel):
    """Chat model backed by a local transformers checkpoint on CPU (or any torch device)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    lm: LocalLM = Field(exclude=True)
    """The loaded model; share one between chat models to share weights."""
    model_name: str = "smollm2"
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] | None = None
    n: int = 1
    """Completions per prompt returned by `generate` (``invoke`` returns the first)."""
    top_logprobs: int = 0
    """Alternatives recorded per generated token in the log-probs metadata."""
    seed: int | None = None

    @property
    def _llm_type(self) -> str:
        return "coachgraph-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "precision": self.lm.precision}

    def _settings(self, stop: list[str] | None, kwargs: dict[str, Any]) -> tuple[SamplingParams, int, int | None]:
        stops = tuple(stop or kwargs.get("stop") or self.stop or ())
        params = SamplingParams(
            max_new_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
            temperature=float(kwargs.get("temperature", self.temperature)),
            top_p=float(kwargs.get("top_p", self.top_p)),
            stop=stops,
            top_logprobs=int(kwargs.get("top_logprobs", self.top_logprobs)),
            ignore_eos=bool(kwargs.get("ignore_eos", False)),
        )
        return params, int(kwargs.get("n", self.n)), kwargs.get("seed", self.seed)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params, n, seed = self._settings(stop, kwargs)
        completions = self.lm.submit([to_chat_messages(messages)], params, n=n, seed=seed)[0]
        generations = [ChatGeneration(message=self._message(c), generation_info={
            "finish_reason": c.finish_reason}) for c in completions]
        return ChatResult(generations=generations, llm_output={"model_name": self.model_name})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params, _, seed = self._settings(stop, kwargs)
        for piece in self.lm.stream(to_chat_messages(messages), params, seed=seed):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[BaseMessage]:
        """Run all `inputs` concurrently so that `LocalLM.submit` coalesces them into batches."""
        configs = get_config_list(config, len(inputs))
        width = max(1, min(len(inputs), self.lm.max_batch))
        configs = [{**c, "max_concurrency": c.get("max_concurrency") or width} for c in configs]
        return super().batch(inputs, configs, return_exceptions=return_exceptions, **kwargs)

    def _message(self, completion: Completion) -> AIMessage:
        return AIMessage(
            content=completion.text,
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": completion.finish_reason,
                "logprobs": {"content": [self._logprob_entry(t) for t in completion.tokens]},
            },
            usage_metadata={
                "input_tokens": completion.prompt_tokens,
                "output_tokens": len(completion.tokens),
                "total_tokens": completion.prompt_tokens + len(completion.tokens),
            },
        )

    def _logprob_entry(self, token: Any) -> dict[str, Any]:
        decode = self.lm.tokenizer.decode
        return {
            "token": decode([token.token_id]),
            "token_id": token.token_id,
            "logprob": token.logprob,
            "top_logprobs": [{"token": decode([i]), "token_id": i, "logprob": lp} for i, lp in token.top],
        }
