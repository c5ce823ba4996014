"""Chat models, token scoring, embeddings, local generation and student training.

`load_chat_model(spec)` gives a langchain-core `BaseChatModel` for ``smollm2``, ``hf:<path>``,
``openai:<base_url>#<model>`` or ``vllm:<model>``; `load_student(spec)` gives a trainable one
with its trainer; `sample_replies` samples many answers at once (with token ids where the model
reports them); `load_embeddings("minilm")` gives `Embeddings`; `score_completion`, `rsr` and
`crew` score given text under a model (`sampled_crew` reads CRew from a sample's own log-probs).
"""

from __future__ import annotations

from coachgraph.models import backends  # noqa: F401  (registers the built-in chat-model backends)
from coachgraph.models.embeddings import load_embeddings
from coachgraph.models.registry import CHAT_MODELS, load_chat_model, parse_spec
from coachgraph.models.replies import Reply, sample_replies
from coachgraph.models.scoring import (
    TokenScores,
    can_score,
    crew,
    rsr,
    rsr_dataset,
    sampled_crew,
    score_completion,
)
from coachgraph.models.student import Student, check_trainable, load_student

__all__ = [
    "CHAT_MODELS",
    "Reply",
    "Student",
    "TokenScores",
    "can_score",
    "check_trainable",
    "crew",
    "load_chat_model",
    "load_embeddings",
    "load_student",
    "parse_spec",
    "rsr",
    "rsr_dataset",
    "sample_replies",
    "sampled_crew",
    "score_completion",
]
