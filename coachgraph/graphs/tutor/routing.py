"""Pure routing functions of the tutor graph: each returns the name of the next node."""

from __future__ import annotations

from typing import Literal

from coachgraph.graphs.tutor.state import TutorState

__all__ = ["after_listen"]


def after_listen(state: TutorState) -> Literal["diagnose", "close"]:
    """An answer, or a request for a hint or the solution, goes to the critic; "end" closes.

    >>> after_listen({"reply": {"kind": "hint", "text": ""}}), after_listen({"reply": {"kind": "end", "text": ""}})
    ('diagnose', 'close')
    """
    return "close" if state.get("reply", {}).get("kind") == "end" else "diagnose"
