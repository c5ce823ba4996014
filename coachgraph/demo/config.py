"""The demo's settings: a short curriculum run, a few orchestrate rounds, the recommendation queries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from coachgraph.graphs.curriculum import AgentConfig, RunConfig
from coachgraph.graphs.orchestrate import OrchestrateConfig

__all__ = ["DEMO_QUERIES", "DemoConfig", "LEARNABLE_SKILLS"]

LEARNABLE_SKILLS = ("sub-1d", "add-2d", "sub-2d")
"""Skills the embedded student can learn within a few steps: one-digit differences it half knows and
two-digit sums and differences without carries, where it mostly has to learn to state its answer
(`add-1d`, which it already answers right, could only fall)."""

DEMO_QUERIES = (
    "Ava had 48 stickers and gave 19 of them to a friend. Later Ava found 7 more stickers. "
    "How many stickers does Ava have now?",
    "What is 67 + 58?",
    "What is 14 + 6 * 7?",
)
"""Tasks the demo asks the trained recommender about: a word problem, a sum with carries, operator
precedence."""


class DemoConfig(BaseModel):
    """Everything the demo runs (the defaults fit in a few minutes on two cores)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    curriculum: RunConfig = Field(default_factory=lambda: RunConfig(
        teacher="sec", steps=6, skills=LEARNABLE_SKILLS, lr=1e-4, eval_every=0, reflect_every=3, save_every=3,
        export=False, agents=AgentConfig(batch_size=8, samples=4, eval_size=12, max_tokens=40, skills_k=0, crew=False)))
    """The curriculum run (its library grows by reflection and serves the orchestrate run). The student
    reads no library skill (`skills_k=0`), so before and after are measured on the same prompts and
    the gain is what training taught it, not what notes written during the run added; four sampled
    answers per problem give the fine-tuning enough correct answers, at twice the default rate."""
    orchestrate: OrchestrateConfig = Field(default_factory=lambda: OrchestrateConfig(
        rounds=6, tasks_per_round=8, retrain_every=8))
    """The orchestrate run (its `library` is the curriculum run's). Six rounds: four can end
    before the learned choice has moved far from where it started (seed 1 solved 3, 3, 4 and 4
    of 8); six give it room (seed 1: 3, 4, 4, 6, 6, 7)."""
    queries: tuple[str, ...] = DEMO_QUERIES
    """Tasks to ask the recommender about once the orchestrate run is over."""
    top: int = Field(default=5, ge=1)
    """Candidates shown per next-agent query."""
