"""Chat models by spec string: ``smollm2``, ``hf:<path>``, ``llamacpp[:<path>]``,
``openai:<base_url>#<model>``, ``vllm:<model>``.

A spec names a backend (the part before the first ``:``) and, for most backends, an argument.
Backends register themselves in `CHAT_MODELS` with `register_chat_model` (the built-in ones when
`coachgraph.models` is imported), so adding one never touches an if/elif chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel

from coachgraph.errors import ModelSpecError

__all__ = ["CHAT_MODELS", "ChatModelEntry", "load_chat_model", "parse_spec", "register_chat_model"]


@dataclass(frozen=True, slots=True)
class ChatModelEntry:
    """One registered backend."""

    factory: Callable[..., BaseChatModel]
    """Called as ``factory(argument, **options)``; `argument` is the text after ``name:``."""
    usage: str
    """The spec's shape, shown in errors and `coachgraph models list`."""
    description: str
    takes_argument: bool
    trainable: bool = False
    """Whether the backend's models can be trained as a student (local transformers weights)."""
    argument_required: bool = True
    """With `takes_argument`: False lets the spec stand alone too (a default argument)."""


CHAT_MODELS: dict[str, ChatModelEntry] = {}
"""Registered chat-model backends by spec name."""


def register_chat_model(
    name: str, usage: str, description: str, takes_argument: bool, trainable: bool = False,
    argument_required: bool = True,
) -> Callable[[Callable[..., BaseChatModel]], Callable[..., BaseChatModel]]:
    """Decorator that adds a backend factory to `CHAT_MODELS` under `name`."""

    def decorate(factory: Callable[..., BaseChatModel]) -> Callable[..., BaseChatModel]:
        CHAT_MODELS[name] = ChatModelEntry(factory, usage, description, takes_argument, trainable,
                                           argument_required)
        return factory

    return decorate


def parse_spec(spec: str) -> tuple[str, str]:
    """Split a spec into ``(backend, argument)``; errors name the known specs."""
    name, _, argument = spec.strip().partition(":")
    entry = CHAT_MODELS.get(name)
    if entry is None:
        raise ModelSpecError(f"unknown model spec {spec!r}; known specs: {known_specs()}")
    if entry.takes_argument and entry.argument_required and not argument:
        raise ModelSpecError(f"model spec {spec!r} needs an argument: {entry.usage}")
    if not entry.takes_argument and argument:
        raise ModelSpecError(f"model spec {spec!r} takes no argument: use {entry.usage!r}")
    return name, argument


def known_specs() -> str:
    return ", ".join(entry.usage for entry in CHAT_MODELS.values())


def load_chat_model(spec: str, **options: Any) -> BaseChatModel:
    """Build the chat model that `spec` names; `options` go to the backend (temperature, ...)."""
    name, argument = parse_spec(spec)
    return CHAT_MODELS[name].factory(argument, **options)
