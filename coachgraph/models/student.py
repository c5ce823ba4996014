"""A student model that trains: its chat model and its trainer, built from a model spec.

Only backends registered as trainable (local transformers weights: ``smollm2``, ``hf:<path>``)
can be students of a training run; any other spec is refused here, with the specs that can train,
before anything is loaded or any run folder is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel

from coachgraph.errors import ModelSpecError
from coachgraph.models.chat_local import LocalChatModel
from coachgraph.models.registry import CHAT_MODELS, load_chat_model, parse_spec
from coachgraph.models.training import StudentTrainer, TrainConfig

__all__ = ["Student", "check_trainable", "load_student"]


@dataclass(frozen=True, slots=True)
class Student:
    """A trainable student: the chat model the agents call and the trainer that updates it."""

    model: BaseChatModel
    trainer: StudentTrainer


def check_trainable(spec: str) -> None:
    """Refuse a spec whose backend cannot train, naming the specs that can.

    >>> check_trainable("smollm2")
    >>> check_trainable("openai:http://localhost:8080/v1#m")
    Traceback (most recent call last):
    ...
    coachgraph.errors.ModelSpecError: model spec 'openai:http://localhost:8080/v1#m' cannot train: a student needs local weights (smollm2, hf:<path>)
    """
    name, _ = parse_spec(spec)
    if not CHAT_MODELS[name].trainable:
        usable = ", ".join(e.usage for e in CHAT_MODELS.values() if e.trainable)
        raise ModelSpecError(f"model spec {spec!r} cannot train: a student needs local weights ({usable})")


def load_student(spec: str, train: TrainConfig | None = None, **options: Any) -> Student:
    """Load the student `spec` names, with a trainer over its weights.

    Args:
        spec: a trainable model spec.
        train: optimiser settings of the trainer.
        options: backend options (``precision``, ``max_tokens``, ...).

    Raises:
        ModelSpecError: for an unknown spec or one that cannot train.
    """
    check_trainable(spec)
    model = load_chat_model(spec, **options)
    if not isinstance(model, LocalChatModel):
        raise ModelSpecError(f"model spec {spec!r} did not load local weights; it cannot train")
    return Student(model=model, trainer=StudentTrainer(model.lm, train))
