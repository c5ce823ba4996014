"""The embedded SmolLM2 as the tutor's teacher model: whatever it writes, no message about an
unsolved problem states its answer after the guard, in the role functions and in a real session."""

from __future__ import annotations

import pytest

from coachgraph.agents import leaks_answer
from coachgraph.graphs.tutor.benchmark import leak_report
from coachgraph.tasks import ArithmeticDomain
from tests.graphs.tutor.conftest import MakeSessions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    from coachgraph.agents import shared_chat_model

    return shared_chat_model("smollm2")


def test_no_hint_states_the_answer_after_the_guard(smollm2) -> None:
    report = leak_report(smollm2, ArithmeticDomain(), messages=6, seed=0, max_tokens=48)
    assert report["messages"] == 6 and report["leaked_after_guard"] == 0
    assert report["leaked_before_guard"] >= report["leaked_after_guard"]


def test_a_session_with_the_embedded_teacher_shows_no_open_answer(make_sessions: MakeSessions, smollm2) -> None:
    sessions = make_sessions(teacher_model=smollm2, max_tokens=48)
    sessions.start("ada", ["add-2d"], session="m1")
    sessions.reply("m1", "1000")
    sessions.reply("m1", "hint")
    for snapshot in sessions.graph.get_state_history({"configurable": {"thread_id": "m1"}}):
        values = snapshot.values
        if snapshot.next == ("listen",) and values.get("problem"):
            message = values["message"]["text"]
            shown = message.replace(values["problem"]["question"], "")
            assert not leaks_answer(shown, values["problem"]["answer"]), message
