"""`LocalChatModel`: a langchain-core chat model over a `LocalLM` (the `smollm2` and `hf:` specs).

Everything a chat model user expects works: `invoke`, `stream`, `batch` (really batched: the
calls of one `batch()` share forward passes), `generate` with ``n`` samples per prompt,
sampling settings per call, and OpenAI-style token log-probs in ``response_metadata``.
A greedy answer is the same whichever other calls share its batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list
from pydantic import ConfigDict, Field

from coachgraph.models.chat_base import SampledChatModel, to_chat_messages
from coachgraph.models.local import Completion, LocalLM, Message
from coachgraph.models.sampling import SamplingParams

__all__ = ["LocalChatModel", "to_chat_messages"]


class LocalChatModel(SampledChatModel):
    """Chat model backed by a local transformers checkpoint on CPU (or any torch device)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    lm: LocalLM = Field(exclude=True)
    """The loaded model; share one between chat models to share weights."""
    model_name: str = "smollm2"

    @property
    def _llm_type(self) -> str:
        return "coachgraph-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "precision": self.lm.precision}

    def _complete(self, conversation: list[Message], params: SamplingParams, n: int,
                  seed: int | None) -> list[Completion]:
        return self.lm.submit([conversation], params, n=n, seed=seed)[0]

    def _pieces(self, conversation: list[Message], params: SamplingParams, seed: int | None) -> Iterator[str]:
        return self.lm.stream(conversation, params, seed=seed)

    def _token_text(self, token_id: int) -> str:
        return self.lm.token_text(token_id)

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
