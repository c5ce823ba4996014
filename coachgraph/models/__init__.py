"""Chat models, token scoring, embeddings and local generation.

`load_chat_model(spec)` gives a langchain-core `BaseChatModel` for ``smollm2``, ``hf:<path>``,
``openai:<base_url>#<model>`` or ``vllm:<model>``; `load_embeddings("minilm")` gives
`Embeddings`; `score_completion`, `rsr` and `crew` score given text under a model.
"""

from __future__ import annotations

from coachgraph.models.embeddings import load_embeddings
from coachgraph.models.registry import CHAT_MODELS, load_chat_model, parse_spec
from coachgraph.models.scoring import TokenScores, crew, rsr, rsr_dataset, score_completion

__all__ = [
    "CHAT_MODELS",
    "TokenScores",
    "crew",
    "load_chat_model",
    "load_embeddings",
    "parse_spec",
    "rsr",
    "rsr_dataset",
    "score_completion",
]
