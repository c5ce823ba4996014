"""`SampledChatModel`: what the in-process chat models (`smollm2`, `hf:`, `llamacpp`) share.

A backend only says how to complete one conversation (`_complete`) and how to stream one
(`_pieces`); this base class turns that into everything a langchain-core chat model user
expects: sampling settings as constructor options or per-call keyword arguments, ``n``
completions per prompt from `generate`, OpenAI-style token log-probs in ``response_metadata``
and token counts in ``usage_metadata``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun, Callbacks
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult

from coachgraph.errors import InputError
from coachgraph.models.local import Completion, Message
from coachgraph.models.sampling import SamplingParams, TokenLogprob

__all__ = ["SampledChatModel", "to_chat_messages"]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "chat": "user"}


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """langchain messages as chat-template messages; rejects an empty or blank prompt."""
    converted = [{"role": _ROLES.get(m.type, m.type), "content": m.text} for m in messages]
    if not converted or not any(m["content"].strip() for m in converted):
        raise InputError("the prompt is empty: give a non-blank message", source="messages")
    return converted


class SampledChatModel(BaseChatModel):
    """A chat model whose completions come with their tokens' log-probs."""

    model_name: str
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] | None = None
    n: int = 1
    """Completions per prompt returned by `generate` (``invoke`` returns the first)."""
    top_logprobs: int = 0
    """Alternatives recorded per generated token in the log-probs metadata."""
    seed: int | None = None
    """Sample ``j`` of a prompt uses ``seed + j``; None draws a fresh seed per call."""

    @abstractmethod
    def _complete(self, conversation: list[Message], params: SamplingParams, n: int,
                  seed: int | None) -> list[Completion]:
        """`n` completions of one conversation."""

    @abstractmethod
    def _pieces(self, conversation: list[Message], params: SamplingParams, seed: int | None) -> Iterator[str]:
        """The text of one completion, piece by piece as it is generated."""

    @abstractmethod
    def _token_text(self, token_id: int) -> str:
        """The text of one token, as the log-probs metadata shows it."""

    def generate(self, messages: list[list[Any]], stop: list[str] | None = None,
                 callbacks: Callbacks = None, **kwargs: Any) -> LLMResult:
        """Like `BaseChatModel.generate`, and each prompt may be any message-like input that
        `invoke` takes (``[("human", "Hi")]``, a string, message dicts)."""
        prompts = [convert_to_messages(m) for m in messages]
        return super().generate(prompts, stop=stop, callbacks=callbacks, **kwargs)

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
        completions = self._complete(to_chat_messages(messages), params, n, seed)
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
        for piece in self._pieces(to_chat_messages(messages), params, seed):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

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

    def _logprob_entry(self, token: TokenLogprob) -> dict[str, Any]:
        return {
            "token": self._token_text(token.token_id),
            "token_id": token.token_id,
            "logprob": token.logprob,
            "top_logprobs": [{"token": self._token_text(i), "token_id": i, "logprob": lp} for i, lp in token.top],
        }
