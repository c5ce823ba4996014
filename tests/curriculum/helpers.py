"""Small builders shared by the curriculum tests."""

from __future__ import annotations

from coachgraph.types import Outcome, TaskFormat


def outcome(category: str, rewards: list[float], *, fmt: TaskFormat = "open", horizon: int = 1,
            missing: tuple[str, ...] = (), difficulty: dict[str, float] | None = None) -> Outcome:
    """An outcome of `category` with the given per-sample rewards."""
    return Outcome(task_id="t", skill=category, category=category, rewards=rewards, format=fmt,
                   horizon=horizon, missing_skills=list(missing), difficulty=difficulty or {})
