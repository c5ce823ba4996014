"""Deterministic fakes that implement the real langchain-core interfaces.

`ScriptedChatModel` replays scripted answers (optionally keyed by a marker found in the prompt),
`ScriptedToolChatModel` replays scripted messages that may call tools (and reports token usage),
`HashEmbeddings` gives stable unit vectors from character n-gram hashes so that similar texts land
near each other.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script.

    `answers` is consumed in order. `by_marker` maps a substring of the last message to an
    answer; it wins over the ordered script when a marker is found.
    """

    answers: list[str] = Field(default_factory=list)
    by_marker: dict[str, str] = Field(default_factory=dict)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    cursor: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next_answer(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        text = str(messages[-1].content) if messages else ""
        for marker, answer in self.by_marker.items():
            if marker in text:
                return answer
        if not self.answers:
            raise RuntimeError("ScriptedChatModel ran out of answers")
        answer = self.answers[self.cursor % len(self.answers)]
        self.cursor += 1
        return answer

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = self._next_answer(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        answer = self._next_answer(messages)
        for i, word in enumerate(answer.split(" ")):
            piece = word if i == 0 else " " + word
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


class ScriptedToolChatModel(BaseChatModel):
    """A tool-calling chat model that replies with the next scripted `AIMessage`, in order.

    A reply's `tool_calls` are returned as they are, so an agent runs those tools; every reply
    carries `usage_metadata` (input tokens: ten per prompt message; output tokens: five), the
    way provider models report usage. `bind_tools` records the tool names it was offered.
    """

    replies: list[AIMessage] = Field(default_factory=list)
    model_name: str = "scripted-tools-1"
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-tools"

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable | BaseTool],
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        self.tools = [getattr(t, "name", None) or str(t) for t in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if len(self.calls) >= len(self.replies):
            raise RuntimeError(f"ScriptedToolChatModel {self.model_name} ran out of replies")
        reply = self.replies[len(self.calls)].model_copy(deep=True)
        self.calls.append(list(messages))
        reply.usage_metadata = {"input_tokens": 10 * len(messages), "output_tokens": 5,
                                "total_tokens": 10 * len(messages) + 5}
        return ChatResult(generations=[ChatGeneration(message=reply)])


class HashEmbeddings(Embeddings):
    """Deterministic bag-of-character-trigram embeddings, normalised to unit length."""

    def __init__(self, dims: int = 32, seed: int = 0) -> None:
        self.dims = dims
        self.seed = seed

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * self.dims
        padded = f"  {text.lower()}  "
        for i in range(len(padded) - 2):
            digest = hashlib.blake2b(
                f"{self.seed}:{padded[i:i + 3]}".encode(), digest_size=8
            ).digest()
            idx = int.from_bytes(digest[:4], "little") % self.dims
            sign = 1.0 if digest[4] & 1 else -1.0
            vec[idx] += sign
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class ArithmeticChatModel(ScriptedChatModel):
    """A small student of arithmetic: it works out the last expression it is shown, rightly when
    every number has one digit, and ten too high otherwise (as a small model does on carries)."""

    def _next_answer(self, messages: list[BaseMessage]) -> str:
        from coachgraph.agents.calculators import evaluate, find_expression, format_number

        self.calls.append(list(messages))
        text = str(messages[-1].content) if messages else ""
        expression = next((e for e in (find_expression(line) for line in reversed(text.splitlines())) if e), None)
        if expression is None:
            return "I am not sure.\n#### 7"
        value = evaluate(expression)
        if any(len(n) > 1 for n in re.findall(r"\d+", expression)):
            value += 10
        return f"{expression} = {format_number(value)}\n#### {format_number(value)}"


class ToolCallingChatModel(ScriptedChatModel):
    """A chat model that binds tools and answers with scripted tool calls (`tool_turns`, consumed
    in order; an empty list answers with text from `answers`)."""

    tool_turns: list[list[dict[str, Any]]] = Field(default_factory=list)
    bound: list[list[str]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.bound.append([getattr(t, "name", str(t)) for t in tools])
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.calls.append(list(messages))
        calls = self.tool_turns.pop(0) if self.tool_turns else []
        if calls:
            message = AIMessage("", tool_calls=[{**c, "type": "tool_call"} for c in calls])
        else:
            message = AIMessage(self.answers[0] if self.answers else "")
        return ChatResult(generations=[ChatGeneration(message=message)])
