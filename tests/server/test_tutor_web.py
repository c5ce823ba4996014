"""The tutor's API on the server: the key rules, streamed turns, views without answers, and
fields named in errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coachgraph.recommend.service import RecommendService
from tests.server.tutor_app import KEY, tutor_app

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def client(service: RecommendService, tmp_path: Path) -> Iterator[TestClient]:
    app, sessions = tutor_app(tmp_path, service)
    with TestClient(app) as test_client:
        yield test_client
    sessions.close()


def _events(text: str) -> list[tuple[str, dict]]:
    found = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_the_page_loads_without_the_key_and_the_api_needs_it(client: TestClient) -> None:
    page = client.get("/tutor")
    assert page.status_code == 200 and 'id="answer"' in page.text and "/tutor/tutor.js" in page.text
    assert client.get("/tutor/tutor.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/tutor/secret.py").status_code == 401  # only the page and its assets are public
    assert client.get("/tutor/secret.py", headers=AUTH).status_code == 404
    assert client.get("/v1/tutor/learners/ada/sessions").status_code == 401
    assert client.post("/v1/tutor/sessions", json={"learner": "ada"}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/v1/tutor/sessions/x/reply", json={"text": "4"}, headers=wrong).status_code == 401


def test_a_session_streams_its_turns_and_never_shows_the_answer(client: TestClient) -> None:
    started = client.post("/v1/tutor/sessions", json={"learner": "ada", "targets": ["add-2d"], "session": "w1"},
                          headers=AUTH)
    events = _events(started.text)
    assert started.headers["content-type"].startswith("text/event-stream")
    tokens = "".join(data["text"] for name, data in events if name == "token")
    name, view = events[-1]
    assert name == "view" and view["message"] == tokens and view["problem"] in tokens
    assert "answer" not in view and view["plan"]["next"] == "add-1d" and set(view["mastery"]) >= {"add-1d", "add-2d"}
    replied = _events(client.post("/v1/tutor/sessions/w1/reply", json={"text": "1000"}, headers=AUTH).text)
    assert replied[-1][1]["turn"] == 1 and "Not quite" in replied[-1][1]["message"]
    again = client.get("/v1/tutor/sessions/w1", headers=AUTH).json()
    assert again == replied[-1][1]
    listed = client.get("/v1/tutor/learners/ada/sessions", headers=AUTH).json()["sessions"]
    assert [s["session_id"] for s in listed] == ["w1"]
    history = client.get("/v1/tutor/sessions/w1/history", headers=AUTH).json()
    assert len(history["transcript"]) == 3 and history["checkpoints"]


def test_errors_name_the_field(client: TestClient) -> None:
    bad = client.post("/v1/tutor/sessions", json={"learner": "ada lovelace"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"]["field"] == "learner"
    assert client.get("/v1/tutor/sessions/nope", headers=AUTH).status_code == 404
    long = client.post("/v1/tutor/sessions/nope/reply", json={"text": "1" * 5000}, headers=AUTH)
    assert long.status_code == 422 and "body.text" in long.json()["fields"]
    unknown = _events(client.post("/v1/tutor/sessions", json={"learner": "ada", "targets": ["calculus"]},
                                  headers=AUTH).text)
    assert unknown == [("error", {"field": "targets", "message": unknown[0][1]["message"]})]
    assert "calculus" in unknown[0][1]["message"]
