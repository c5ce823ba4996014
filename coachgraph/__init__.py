"""coachgraph: LangGraph teacher, student, critic and planner agents over a shared skill library
and calling-tree logs, producing curricula and learned recommender scores."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
