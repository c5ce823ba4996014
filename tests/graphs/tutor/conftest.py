"""Fixtures of the tutor graph's tests: sessions on a fresh SQLite file and the open problem's answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coachgraph.graphs.tutor import TutorContext
from coachgraph.graphs.tutor.session import TutorSessions

MakeSessions = Callable[..., TutorSessions]


@pytest.fixture
def make_sessions(tmp_path: Path) -> Iterator[MakeSessions]:
    """Opens `TutorSessions` on ``tmp_path/tutor.sqlite`` (closed at the end of the test)."""
    opened: list[TutorSessions] = []

    def make(location: str | None = None, **context: Any) -> TutorSessions:
        sessions = TutorSessions(location or str(tmp_path / "tutor.sqlite"), TutorContext(**context))
        opened.append(sessions)
        return sessions

    yield make
    for sessions in opened:
        sessions.close()


def open_answer(sessions: TutorSessions, session: str) -> str:
    """The answer of the session's open problem (read from its state, never shown to clients)."""
    return sessions.graph.get_state({"configurable": {"thread_id": session}}).values["problem"]["answer"]
