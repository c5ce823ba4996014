"""Sampling many replies at once, with token ids where the model reports them.

Agents that sample G answers per problem (the student in training, the teacher checking its own
problems) need one call that works for every chat model: a local model generates all rows of a
call in one deterministic `LocalLM.generate` batch, so results depend only on the weights and
the seeds (never on how concurrent requests happened to be coalesced), and returns each answer's
token ids for policy-gradient training; any other chat model is called through its
`generate`. The local batch is still reported to the callbacks of the running graph, so the
calling-tree tracer records it as a model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.callbacks import CallbackManager
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import ensure_config

from coachgraph.models.chat_local import LocalChatModel
from coachgraph.models.local import Message
from coachgraph.models.sampling import SamplingParams

__all__ = ["Reply", "sample_replies", "to_langchain"]

_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


@dataclass(frozen=True, slots=True)
class Reply:
    """One sampled answer: its text and, for models that report them, its token ids and each
    token's log-probability under the (untempered) model."""

    text: str
    token_ids: tuple[int, ...] = ()
    logprobs: tuple[float, ...] = ()


def to_langchain(conversation: Sequence[Message]) -> list[BaseMessage]:
    """Chat-template dicts as langchain-core messages."""
    return [_ROLES[m["role"]](m["content"]) for m in conversation]


def _report(model: BaseChatModel, conversations: Sequence[Sequence[Message]],
            replies: list[list[Reply]]) -> None:
    """Tell the running graph's callbacks about a batch generated outside `invoke`."""
    manager = CallbackManager.configure(inheritable_callbacks=ensure_config().get("callbacks"))
    runs = manager.on_chat_model_start({"name": model.get_name()}, [to_langchain(c) for c in conversations])
    for run, row in zip(runs, replies, strict=True):
        run.on_llm_end(LLMResult(generations=[[ChatGeneration(message=AIMessage(r.text)) for r in row]]))


def _local(model: LocalChatModel, conversations: Sequence[Sequence[Message]], n: int, seed: int,
           params: SamplingParams) -> list[list[Reply]]:
    rows = model.lm.generate(conversations, params, n=n, seed=seed)
    replies = [[Reply(c.text, tuple(t.token_id for t in c.tokens), tuple(t.logprob for t in c.tokens)) for c in row]
               for row in rows]
    _report(model, conversations, replies)
    return replies


def _chat(model: BaseChatModel, conversations: Sequence[Sequence[Message]], n: int, seed: int,
          params: SamplingParams) -> list[list[Reply]]:
    messages = [to_langchain(c) for c in conversations]
    rounds = [model.generate(messages, seed=seed + j, temperature=params.temperature,
                             max_tokens=params.max_new_tokens) for j in range(n)]
    return [[Reply(r.generations[i][0].text) for r in rounds] for i in range(len(conversations))]


def sample_replies(model: BaseChatModel, conversations: Sequence[Sequence[Message]], *, n: int,
                   seed: int, temperature: float, max_tokens: int) -> list[list[Reply]]:
    """`n` replies per conversation; sample j of conversation i is seeded from `seed`, i and j.

    Greedy (`temperature` 0) replies of a local model are the same whichever other
    conversations share the call.
    """
    if not conversations:
        return []
    params = SamplingParams(max_new_tokens=max_tokens, temperature=temperature)
    sampler = _local if isinstance(model, LocalChatModel) else _chat
    return sampler(model, conversations, n, seed, params)
