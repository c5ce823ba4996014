"""The tutor graph through its session driver on real SQLite checkpoints and store: turns,
resumes, the learner model across sessions, history, pruning, fitting, and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from langgraph.checkpoint.serde import _msgpack

from coachgraph.errors import InputError
from coachgraph.graphs.tutor.learners import record_answer, stored_params
from coachgraph.tasks import JsonlDomain
from tests.fakes import ScriptedChatModel
from tests.graphs.tutor.conftest import MakeSessions, open_answer


def test_checkpoints_are_read_with_strict_msgpack() -> None:
    assert os.environ["LANGGRAPH_STRICT_MSGPACK"] == "true" and _msgpack.STRICT_MSGPACK_ENABLED


def test_a_session_answers_hints_solves_and_ends(make_sessions: MakeSessions) -> None:
    sessions = make_sessions()
    streamed: list[str] = []
    view = sessions.start("ada", ["add-2d"], session="s1", emit=streamed.append)
    assert view.status == "active" and view.skill == "add-1d" and view.problem in view.message
    assert "".join(streamed) == view.message and view.plan["next"] == "add-1d"
    first = view.mastery["add-1d"]
    view = sessions.reply("s1", open_answer(sessions, "s1"))
    assert view.transcript[-1]["text"].startswith("Correct") and view.mastery["add-1d"] > first
    wrong = str(int(open_answer(sessions, "s1")) + 1)
    view = sessions.reply("s1", wrong)
    assert "Not quite" in view.message and "Hint" in view.message
    view = sessions.reply("s1", "/hint")
    assert view.message.startswith("Hint") and view.turn == 3
    answer = open_answer(sessions, "s1")
    view = sessions.reply("s1", "solution")
    assert f"The answer is {answer}" in view.message and view.transcript[-1]["moves"][-1] == "problem"
    view = sessions.reply("s1", {"kind": "end"})
    assert view.status == "ended" and "Session finished" in view.message
    values = sessions.graph.get_state({"configurable": {"thread_id": "s1"}}).values
    json.dumps(values)  # JSON values only
    counted = [a["counted"] for a in values["answers"]]
    assert counted == [True, True, False, False]  # a hint or the solution after an answer does not count again
    with pytest.raises(InputError, match="not waiting"):
        sessions.reply("s1", "3")


def test_a_reopened_session_shows_the_same_and_calls_no_model(make_sessions: MakeSessions, tmp_path: Path) -> None:
    model = ScriptedChatModel(answers=["Think about the ones column first. What do you get?"])
    sessions = make_sessions(teacher_model=model)
    sessions.start("ada", ["add-2d"], session="s1")
    sessions.reply("s1", str(int(open_answer(sessions, "s1")) + 1))
    calls, view = len(model.calls), sessions.view("s1")
    assert calls == 2 and "ones column" in view.message  # the explanation, then the hint
    sessions.close()
    again = make_sessions(teacher_model=model)
    assert again.resume("s1") == view and len(model.calls) == calls
    state = again.graph.get_state({"configurable": {"thread_id": "s1"}})
    assert state.next == ("listen",) and state.interrupts[0].value["message"] == view.message
    assert "answer" not in state.interrupts[0].value


class _Crash(RuntimeError):
    pass


def test_a_run_cut_short_in_the_tutor_resumes_without_duplicates(make_sessions: MakeSessions) -> None:
    crashing = ScriptedChatModel(answers=["Explained."], by_marker={"not right": "__crash__"})

    def crash_on_hints(messages, *args, **kwargs):  # the process dies while the hint is written
        if "not right" in str(messages[-1].content):
            raise _Crash("killed")
        return ScriptedChatModel._stream(crashing, messages, *args, **kwargs)

    object.__setattr__(crashing, "_stream", crash_on_hints)
    sessions = make_sessions(teacher_model=crashing)
    sessions.start("ada", ["add-2d"], session="s1")
    with pytest.raises(_Crash):
        sessions.reply("s1", "1000")
    sessions.close()
    healthy = make_sessions(teacher_model=ScriptedChatModel(answers=["Look at the ones."]))
    view = healthy.resume("s1")
    assert view.turn == 1 and "Look at the ones." in view.message
    assert [e["turn"] for e in view.transcript] == [0, 1, 1]
    assert healthy.learner("ada")["model"]["events"] == 1


def test_the_learner_model_outlives_a_session(make_sessions: MakeSessions) -> None:
    sessions = make_sessions()
    sessions.start("ada", ["add-2d"], session="s1")
    for _ in range(3):
        sessions.reply("s1", open_answer(sessions, "s1"))
    mastery = sessions.view("s1").mastery
    second = sessions.start("ada", ["add-2d"], session="s2")
    assert second.mastery == mastery and second.plan["next"] != "add-1d" or mastery["add-1d"] < 0.95
    assert {s["session_id"] for s in sessions.sessions("ada")} == {"s1", "s2"}
    history = sessions.learner("ada")["history"]
    assert [h["turn"] for h in history] == [1, 2, 3] and all(h["correct"] for h in history)
    assert sessions.start("bob", ["add-2d"], session="s3").mastery["add-1d"] == pytest.approx(0.2)


def test_history_checkpoints_and_pruning(make_sessions: MakeSessions) -> None:
    sessions = make_sessions()
    sessions.start("ada", ["add-2d"], session="s1")
    sessions.start("ada", ["add-2d"], session="s2")
    for _ in range(2):
        sessions.reply("s1", "7")
    before = sessions.view("s1")
    assert len(sessions.checkpoints("s1")) > 5
    pruned = sessions.prune(["s1"])
    assert pruned["s1"][0] > 5 and pruned["s1"][1] == 1 and len(sessions.checkpoints("s2")) > 1
    assert sessions.view("s1") == before
    view = sessions.reply("s1", open_answer(sessions, "s1"))
    assert view.turn == 3 and view.transcript[:len(before.transcript)] == before.transcript
    assert set(sessions.prune()) == {"s1", "s2"}


def test_bkt_parameters_are_fitted_from_the_stores_history(make_sessions: MakeSessions) -> None:
    sessions = make_sessions()
    for learner in range(30):
        for turn, correct in enumerate([0, 0, 1, 1, 1]):
            record_answer(sessions.store, f"l{learner}", "s", turn, {
                "domain": "arithmetic", "skill": "add-2d", "correct": bool(correct), "counted": True, "seq": turn})
    fitted = sessions.fit(min_answers=100)
    assert fitted["add-2d"]["fitted"] and fitted["add-2d"]["answers"] == 150 and not fitted.get("add-1d")
    params = stored_params(sessions.store, "arithmetic")
    view = sessions.start("new", ["add-2d"], session="s9")
    assert view.mastery["add-2d"] == pytest.approx(params["add-2d"].prior, abs=1e-4) != pytest.approx(0.2)


def test_problems_come_from_a_users_jsonl_file(make_sessions: MakeSessions, tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [{"question": f"Tom has {n} apples and buys {n + 2} more. How many apples now?",
             "answer": f"{n} + {n + 2} = {2 * n + 2}\n#### {2 * n + 2}", "skill": "apples"} for n in range(3, 13)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    sessions = make_sessions(domain=JsonlDomain(path))
    view = sessions.start("ada", None, session="j1")
    assert view.skill == "apples" and "apples" in view.problem
    view = sessions.reply("j1", "1")
    assert "Not quite" in view.message and "= ?" in view.message


def test_bad_input_is_refused_naming_it(make_sessions: MakeSessions) -> None:
    sessions = make_sessions()
    with pytest.raises(InputError, match="learner"):
        sessions.start("ada.lovelace", ["add-2d"])
    with pytest.raises(InputError, match="unknown target skill 'calculus'"):
        sessions.start("ada", ["calculus"], session="s1")
    with pytest.raises(InputError, match="no session 'nope'"):
        sessions.view("nope")
    sessions.start("ada", ["add-2d"], session="s2")
    with pytest.raises(InputError, match="exists already"):
        sessions.start("ada", ["add-2d"], session="s2")
    with pytest.raises(InputError, match="reply.kind"):
        sessions.reply("s2", {"kind": "cheat"})
    view = sessions.reply("s2", "/solution")  # the first action on a problem: counts as not solved
    assert sessions.graph.get_state({"configurable": {"thread_id": "s2"}}).values["answers"][-1]["counted"]
    assert view.turn == 1


def test_a_model_backed_learner_plays_a_session(make_sessions: MakeSessions) -> None:
    from coachgraph.agents import ModelLearner

    learner_model = ScriptedChatModel(answers=["I think it is 5.", "Hmm, no idea", "It's 1000"])
    learner = ModelLearner(learner_model, seed=1)
    sessions = make_sessions()
    view = sessions.start("bot", ["add-2d"], session="b1")
    for _ in range(3):
        view = sessions.reply("b1", learner.reply(view.message, None))
    assert [e["kind"] for e in view.transcript if e["role"] == "learner"] == ["answer", "hint", "answer"]
    assert "Tutor:" in str(learner_model.calls[0][-1].content) and learner.turns == 3
