"""`VLLMChatModel`: vLLM's in-process engine behind langchain-core (GPU machines).

vLLM is imported only when this backend is used, so the package installs and runs without it;
`pip install 'coachgraph[vllm]'` adds it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, Field

from coachgraph.errors import MissingDependencyError
from coachgraph.models.chat_base import to_chat_messages

__all__ = ["VLLMChatModel", "import_vllm"]


def import_vllm() -> Any:
    """The `vllm` module, or an error that names the extra to install."""
    try:
        import vllm
    except ImportError as exc:
        raise MissingDependencyError(
            "the vllm backend needs vLLM (GPU): pip install 'coachgraph[vllm]'"
        ) from exc
    return vllm


class VLLMChatModel(BaseChatModel):
    """Chat model over a `vllm.LLM` engine; `batch()` sends all prompts to the engine at once."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any = Field(exclude=True)
    model_name: str
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] | None = None
    n: int = 1
    top_logprobs: int = 1
    seed: int | None = None

    @classmethod
    def from_model(cls, model: str, **options: Any) -> VLLMChatModel:
        vllm = import_vllm()
        engine_keys = ("tensor_parallel_size", "gpu_memory_utilization", "max_model_len", "dtype")
        engine_options = {k: options.pop(k) for k in engine_keys if k in options}
        return cls(engine=vllm.LLM(model=model, **engine_options), model_name=model, **options)

    @property
    def _llm_type(self) -> str:
        return "coachgraph-vllm"

    def sampling_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        vllm = import_vllm()
        return vllm.SamplingParams(
            n=int(kwargs.get("n", self.n)),
            temperature=float(kwargs.get("temperature", self.temperature)),
            top_p=float(kwargs.get("top_p", self.top_p)),
            max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
            stop=stop or kwargs.get("stop") or self.stop,
            logprobs=int(kwargs.get("top_logprobs", self.top_logprobs)),
            seed=kwargs.get("seed", self.seed),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        output = self.engine.chat([to_chat_messages(messages)], self.sampling_params(stop, **kwargs))[0]
        return ChatResult(generations=[ChatGeneration(message=self._message(o)) for o in output.outputs])

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[BaseMessage]:
        """One engine call for every input (vLLM schedules them with continuous batching)."""
        conversations = [to_chat_messages(self._convert_input(i).to_messages()) for i in inputs]
        outputs = self.engine.chat(conversations, self.sampling_params(**kwargs))
        return [self._message(o.outputs[0]) for o in outputs]

    def _message(self, output: Any) -> AIMessage:
        content = []
        for token_id, alternatives in zip(output.token_ids, output.logprobs or [], strict=False):
            chosen = alternatives[token_id]
            content.append({
                "token": chosen.decoded_token,
                "token_id": token_id,
                "logprob": chosen.logprob,
                "top_logprobs": [{"token": lp.decoded_token, "token_id": i, "logprob": lp.logprob}
                                 for i, lp in alternatives.items()],
            })
        return AIMessage(content=output.text, response_metadata={
            "model_name": self.model_name, "finish_reason": output.finish_reason,
            "logprobs": {"content": content}})
