"""`coachgraph tutor` in a real pseudo-terminal: answer twice, kill the process (SIGKILL), start it
again with the same session and find the same plan, mastery and history; Ctrl-C leaves the
session saved as it was; a third start goes on from there."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest

from coachgraph.agents.diagnosis import evaluate, parse_expression
from coachgraph.graphs.tutor import TutorContext
from coachgraph.graphs.tutor.session import SessionView, TutorSessions

pexpect = pytest.importorskip("pexpect", reason="pexpect (dev extra) drives the terminal")

pytestmark = pytest.mark.slow

PROMPT = "you> "
PROBLEM = re.compile(r"Problem \d+ \([\w-]+\): (What is [^?\n]+\?)")


def _spawn(tmp_path: Path) -> pexpect.spawn:
    env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    args = ["-m", "coachgraph.cli.main", "tutor", "--learner", "ada", "--session", "t1", "--db",
            str(tmp_path / "tutor.sqlite"), "--library", str(tmp_path / "skills"), "--target", "add-2d"]
    # Ctrl-C as in a user's terminal, even where the tests themselves run with SIGINT ignored
    # (a background job of a non-interactive shell): an ignored signal would pass to the child.
    return pexpect.spawn(sys.executable, args, env=env, encoding="utf-8", timeout=300, dimensions=(60, 200),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _view(tmp_path: Path) -> SessionView:
    with TutorSessions(str(tmp_path / "tutor.sqlite"), TutorContext()) as sessions:
        return sessions.view("t1")


def _answer(child: pexpect.spawn, text: str) -> str:
    child.sendline(text)
    child.expect_exact(PROMPT)
    return child.before


def _solve(question: str) -> str:
    expression = parse_expression(question)
    assert expression is not None, question
    return str(evaluate(expression))


def test_answer_twice_kill_and_resume_to_the_same_session(tmp_path: Path) -> None:
    child = _spawn(tmp_path)
    child.expect_exact(PROMPT)
    shown = child.before
    assert "Started session t1 of ada" in shown and "add-1d" in shown and "mastery" in shown
    right = _solve(PROBLEM.findall(shown)[-1])
    after_right = _answer(child, right)
    assert "Correct" in after_right
    after_wrong = _answer(child, "1000")
    assert "Not quite: you answered 1000" in after_wrong and "Hint" in after_wrong
    before = _view(tmp_path)
    assert before.turn == 2 and [e["text"] for e in before.transcript if e["role"] == "learner"] == [right, "1000"]
    child.kill(signal.SIGKILL)
    child.wait()

    child = _spawn(tmp_path)
    child.expect_exact(PROMPT)
    resumed = child.before
    assert "Resumed session t1 of ada (turn 2)" in resumed
    assert f"[1] you: {right}" in resumed and "[2] you: 1000" in resumed and before.message.splitlines()[0] in resumed
    for skill in before.plan["order"]:
        assert re.search(rf"{re.escape(skill)}\s+│?\s*{before.mastery[skill]:.2f}", resumed), skill
    assert _view(tmp_path) == before
    child.sendintr()
    child.expect("Session t1 is saved")
    child.expect(pexpect.EOF)
    assert _view(tmp_path) == before

    child = _spawn(tmp_path)
    child.expect_exact(PROMPT)
    assert "Resumed session t1 of ada (turn 2)" in child.before
    assert before.problem is not None
    _answer(child, _solve(before.problem))
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    after = _view(tmp_path)
    assert after.turn == 3 and after.transcript[:len(before.transcript)] == before.transcript
    assert after.transcript[-2]["text"] == _solve(before.problem)
