"""Route a query to one skill with a confidence, or abstain.

Candidates come from the library's hybrid search. Their scores, plus a "no skill" score, go
through a softmax with temperature (the routing policy of Memento-Skills read as a soft
Q-function). The two-threshold rule of PRISM then decides: a confident, clear winner is routed
alone; a confident near-tie returns the winner and its runner-up; anything else abstains.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from coachgraph.retrieval import Hit
from coachgraph.skills.library import SkillLibrary
from coachgraph.skills.model import SkillKind

__all__ = ["Route", "RouteMode", "RouterConfig", "SkillRouter"]


class RouteMode(StrEnum):
    SINGLE = "single"
    """One clear winner."""
    AMBIGUOUS = "ambiguous"
    """Confident, but the runner-up is close: both are returned."""
    ABSTAIN = "abstain"
    """No skill is likely enough."""


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """Thresholds and temperature of the router."""

    min_confidence: float = 0.35
    """Abstain when the best skill's probability is below this (PRISM's tau_c)."""
    min_gap: float = 0.1
    """Below this gap between the top two probabilities the route is ambiguous (tau_a)."""
    temperature: float = 0.1
    """Softmax temperature over fused scores (calibrated fusion scores lie in [0, 1])."""
    null_score: float = 0.5
    """Score of the "no skill" option; a skill must beat it to be routed."""
    candidates: int = 5
    """How many retrieved skills compete."""


@dataclass(frozen=True, slots=True)
class Route:
    """The router's decision."""

    mode: RouteMode
    skill: str | None
    """The chosen skill; ``None`` when abstaining."""
    confidence: float
    """The probability of the best skill."""
    alternatives: tuple[Hit, ...] = ()
    """The other candidates with their probabilities, best first."""


class SkillRouter:
    """Picks the best skill for a query from a `SkillLibrary`."""

    def __init__(self, library: SkillLibrary, config: RouterConfig | None = None) -> None:
        self.library = library
        self.config = config or RouterConfig()

    def probabilities(self, query: str, kind: SkillKind | str | None = None) -> list[Hit]:
        """Candidates with routing probabilities (the "no skill" share is left out), best first."""
        hits = self.library.search(query, self.config.candidates, kind)
        if not hits:
            return []
        scores = np.array([h.score for h in hits] + [self.config.null_score]) / self.config.temperature
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        return [Hit(h.id, float(p)) for h, p in zip(hits, probs[:-1], strict=True)]

    def route(self, query: str, kind: SkillKind | str | None = None) -> Route:
        """Apply the two-threshold rule to the candidates' probabilities."""
        ranked = self.probabilities(query, kind)
        if not ranked or ranked[0].score < self.config.min_confidence:
            best = ranked[0].score if ranked else 0.0
            return Route(RouteMode.ABSTAIN, None, best, tuple(ranked))
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        mode = RouteMode.SINGLE if ranked[0].score - runner_up >= self.config.min_gap else RouteMode.AMBIGUOUS
        return Route(mode, ranked[0].id, ranked[0].score, tuple(ranked[1:]))
