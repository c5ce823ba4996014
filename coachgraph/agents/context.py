"""What the nodes of every graph share through LangGraph's runtime context, and how a context is
built from plain configuration.

A context holds live objects (models, the task domain, the skill library), so it travels in the
runtime context rather than in the checkpointed state. Contexts are pydantic models whose fields
also accept plain values: a model spec string, a domain spec, a library folder. That lets a
LangGraph server, which passes the context of a run as JSON, build the same context a library
user builds from objects. Objects named by a spec are loaded once per process and shared by the
contexts that name them, so a server does not reload a model for every run.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from coachgraph.models import load_chat_model
from coachgraph.skills import SkillLibrary
from coachgraph.tasks import TaskDomain, load_domain

__all__ = ["BaseContext", "ChatModelField", "DomainField", "LibraryField", "shared_chat_model",
           "shared_domain", "shared_library"]


T = TypeVar("T")


def _once_per_process(load: Callable[[str], T]) -> Callable[[str], T]:
    """`load` cached per argument, with first loads one at a time: a team's members start on
    threads of their own, and two of them asking for the same model at once must not load it twice
    (transformers' lazy imports are not safe to race, and every copy of a model costs memory)."""
    cached, lock = functools.cache(load), threading.Lock()

    @functools.wraps(load)
    def shared(key: str) -> T:
        with lock:
            return cached(key)

    return shared


@_once_per_process
def shared_chat_model(spec: str) -> BaseChatModel:
    """The chat model `spec` names, loaded once per process."""
    return load_chat_model(spec)


@_once_per_process
def shared_domain(spec: str) -> TaskDomain:
    """The task domain `spec` names, built once per process."""
    return load_domain(spec)


@_once_per_process
def shared_library(folder: str) -> SkillLibrary:
    """The skill library in `folder`, opened once per process."""
    return SkillLibrary(Path(folder), embeddings=None)


def _chat_model(value: Any) -> Any:
    return shared_chat_model(value) if isinstance(value, str) else value


def _domain(value: Any) -> Any:
    return shared_domain(value) if isinstance(value, str) else value


def _library(value: Any) -> Any:
    return shared_library(str(value)) if isinstance(value, str | Path) else value


ChatModelField = Annotated[BaseChatModel, BeforeValidator(_chat_model)]
"""A chat model, given as an object or as a model spec (``smollm2``, ``openai:...``)."""
DomainField = Annotated[TaskDomain, BeforeValidator(_domain)]
"""A task domain, given as an object or as a spec (``arithmetic``, ``jsonl:<path>``)."""
LibraryField = Annotated[SkillLibrary | None, BeforeValidator(_library)]
"""A skill library, given as an object or as its folder."""


class BaseContext(BaseModel):
    """What the nodes of every graph share: where problems come from, the skill library, the seed.

    Every graph's context extends this one with what its own nodes need.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="forbid")

    domain: DomainField = Field(default="arithmetic", validate_default=True)
    """Where problems and held-out sets come from."""
    library: LibraryField = None
    """Skills retrieved into prompts and written by reflection; None leaves them out."""
    seed: int = 0
    """Seed every random draw of a run derives from (`coachgraph.seeding`)."""
