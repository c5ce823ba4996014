"""The learner model: mastery per skill, traced with BKT over a domain's prerequisite graph.

It is a JSON record (`schema_version`, one entry per skill) so that it can live in LangGraph's
store under the learner's namespace and outlive any session, and in graph state. Every answer is
applied once: an answer carries an event id, and applying the model's last event again returns
the model unchanged, so a node that LangGraph re-runs after a kill does not count it twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from coachgraph.curriculum.bkt import BKTParams, observe, predict_correct
from coachgraph.skills import prerequisite_dag

__all__ = ["CERTAINTY", "LEARNER_SCHEMA_VERSION", "LearnerModel", "SkillMastery", "knowledge_graph", "prerequisite_evidence"]

LEARNER_SCHEMA_VERSION = 1
"""Version of the stored learner model."""

CERTAINTY = 0.99
"""The most a failure on a skill that builds on a prerequisite may take the prerequisite as
certain: BKT's mastery approaches 1 after a run of right answers, and from there no evidence
could bring a forgotten prerequisite back into question within a session."""


class SkillMastery(BaseModel):
    """What the model knows about one skill of one learner."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mastery: float = Field(ge=0.0, le=1.0)
    """P(the learner knows the skill), after the answers so far."""
    answers: int = 0
    """Answers that counted (every answer, and a hint or solution asked for before answering)."""
    correct: int = 0
    """Of those, the correct ones."""
    params: BKTParams = Field(default_factory=BKTParams)
    """The skill's BKT parameters."""


class LearnerModel(BaseModel):
    """Mastery per skill of one learner in one domain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = LEARNER_SCHEMA_VERSION
    learner: str
    domain: str
    threshold: float = Field(default=0.95, gt=0.0, lt=1.0)
    """Mastery at or above which a skill counts as mastered."""
    skills: dict[str, SkillMastery]
    events: int = 0
    """Answers applied so far."""
    last_event: str | None = None
    """Id of the last answer applied (``session:turn``)."""

    @model_validator(mode="after")
    def _known_version(self) -> LearnerModel:
        if self.schema_version != LEARNER_SCHEMA_VERSION:
            raise ValueError(f"learner model schema_version {self.schema_version} is not supported "
                             f"(this coachgraph reads version {LEARNER_SCHEMA_VERSION})")
        return self

    @classmethod
    def start(cls, learner: str, domain: str, params: Mapping[str, BKTParams], threshold: float = 0.95
              ) -> LearnerModel:
        """A new learner: every skill at its prior."""
        return cls(learner=learner, domain=domain, threshold=threshold,
                   skills={s: SkillMastery(mastery=p.prior, params=p) for s, p in params.items()})

    @property
    def mastery(self) -> dict[str, float]:
        """P(known) per skill."""
        return {s: m.mastery for s, m in self.skills.items()}

    def mastered(self, skill: str) -> bool:
        """Whether `skill` is at or above the mastery threshold."""
        return self.skills[skill].mastery >= self.threshold

    def predict(self, skill: str) -> float:
        """P(the next answer on `skill` is correct)."""
        state = self.skills[skill]
        return predict_correct(state.mastery, state.params)

    def observe(self, skill: str, correct: bool, event: str, prerequisites: Sequence[str] = ()) -> LearnerModel:
        """The model after one counted answer; the same model when `event` was the last applied.

        A wrong answer also lowers the skill's direct `prerequisites` (see `prerequisite_evidence`;
        each is first taken as at most `CERTAINTY` mastered).

        >>> m = LearnerModel.start("ada", "arithmetic", {"add": BKTParams(prior=0.3, learn=0.1)})
        >>> m2 = m.observe("add", True, "s1:1")
        >>> round(m2.mastery["add"], 6), m2.observe("add", True, "s1:1") is m2
        (0.692683, True)
        """
        if event == self.last_event:
            return self
        state = self.skills[skill]
        skills = dict(self.skills)
        if state.answers and not correct:
            for pre in prerequisites:
                ratio = prerequisite_evidence(state.mastery, correct, state.params)
                doubted = min(skills[pre].mastery, CERTAINTY)
                skills[pre] = skills[pre].model_copy(update={"mastery": _times_odds(doubted, ratio)})
        skills[skill] = state.model_copy(update={"mastery": observe(state.mastery, correct, state.params),
                                                 "answers": state.answers + 1, "correct": state.correct + int(correct)})
        return self.model_copy(update={"skills": skills, "events": self.events + 1, "last_event": event})

    def with_skills(self, params: Mapping[str, BKTParams]) -> LearnerModel:
        """The model extended with skills it has not seen yet (a domain that grew), at their priors."""
        new = {s: SkillMastery(mastery=p.prior, params=p) for s, p in params.items() if s not in self.skills}
        return self.model_copy(update={"skills": {**self.skills, **new}}) if new else self


def prerequisite_evidence(p: float, correct: bool, params: BKTParams) -> float:
    """How much an answer on a skill changes the odds that a prerequisite of it is known.

    The learner can learn a skill between two of its answers only if its prerequisites are known.
    Writing ``q`` for P(the skill was unknown after its last answer), ``e1`` and ``e0`` for
    P(this answer | skill known / unknown) and ``l`` for its learning rate, the answer's
    likelihood is ``q (l e1 + (1 - l) e0) + (1 - q) e1`` when the prerequisite is known and
    ``q e0 + (1 - q) e1`` when not (nothing was learnt). `LearnerModel.observe` applies the ratio
    of a wrong answer to each direct prerequisite: a skill that keeps failing although it should
    have been learnt by now puts its prerequisites back in question, which lets the planner go
    back to one wrongly taken as mastered (a lucky guess) or forgotten since.

    >>> round(prerequisite_evidence(0.2, False, BKTParams(learn=0.2, guess=0.2, slip=0.1)), 4)   # 0.66 / 0.8
    0.825
    """
    q = min(max((1.0 - p) / (1.0 - params.learn), 0.0), 1.0) if params.learn < 1.0 else 0.0
    e1, e0 = (1.0 - params.slip, params.guess) if correct else (params.slip, 1.0 - params.guess)
    known = q * (params.learn * e1 + (1.0 - params.learn) * e0) + (1.0 - q) * e1
    unknown = q * e0 + (1.0 - q) * e1
    return known / unknown if unknown > 0 else 1.0


def _times_odds(p: float, ratio: float) -> float:
    """`p` with its odds multiplied by `ratio`, kept off 0 and 1."""
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    odds = p / (1.0 - p) * ratio
    return odds / (1.0 + odds)


def knowledge_graph(model: LearnerModel, prerequisites: Mapping[str, Iterable[str]]) -> nx.DiGraph:
    """The learner's knowledge graph: the prerequisite DAG with each skill's mastery, answers and
    BKT parameters as node attributes (GraphMASAL's dynamic knowledge graph)."""
    attributes = {s: {"mastery": m.mastery, "answers": m.answers, "learn": m.params.learn,
                      "mastered": m.mastery >= model.threshold} for s, m in model.skills.items()}
    return prerequisite_dag(prerequisites, attributes=attributes)
