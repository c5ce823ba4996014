"""Tutor sessions on PostgreSQL (checkpointer and store): a session survives closing every
connection, the learner model lives in the store, and pruning keeps the latest checkpoint."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.graphs.tutor.conftest import MakeSessions, open_answer

pytestmark = pytest.mark.postgres

DSN = os.environ.get("COACHGRAPH_PG_DSN")


def test_a_session_on_postgres_resumes_and_prunes(make_sessions: MakeSessions) -> None:
    if not DSN:
        pytest.skip("COACHGRAPH_PG_DSN is not set (run .ci/postgres.sh to get a server)")
    learner, session = f"pg-{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:10]}"
    sessions = make_sessions(DSN)
    sessions.start(learner, ["add-2d"], session=session)
    sessions.reply(session, open_answer(sessions, session))
    view = sessions.reply(session, "1000")
    sessions.close()
    again = make_sessions(DSN)
    assert again.view(session) == view and view.turn == 2
    assert again.learner(learner)["model"]["events"] == 2
    assert [s["session_id"] for s in again.sessions(learner)] == [session]
    before, after = again.prune([session])[session]
    assert before > 2 and after == 1 and again.view(session) == view
    assert again.reply(session, open_answer(again, session)).turn == 3
