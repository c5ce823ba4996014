"""The HTTP API: auth, validation errors naming the field, and answers from a trained store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.tool import recommend_next_agent_tool
from coachgraph.server.app import create_app
from tests.recommend._trees import POOL

KEY = "s3cret"


@pytest.fixture
def client(service: RecommendService) -> TestClient:
    return TestClient(create_app(service.location, api_key=KEY, service=service))


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


def test_key_required_when_configured(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/v1/recommend/next", json={"task": "weather"}).status_code == 401
    wrong = client.post("/v1/recommend/next", json={"task": "weather"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_malformed_and_oversized_requests_name_the_field(client: TestClient) -> None:
    bad_k = client.post("/v1/recommend/next", json={"task": "x", "k": 0}, headers=_auth())
    assert bad_k.status_code == 422 and "body.k" in bad_k.json()["fields"]
    huge = client.post("/v1/recommend/next", json={"task": "x" * 9000}, headers=_auth())
    assert huge.status_code == 422 and "body.task" in huge.json()["fields"]
    missing = client.post("/v1/recommend/team", json={"max_size": 2}, headers=_auth())
    assert missing.status_code == 422 and "body.task" in missing.json()["fields"]
    unknown = client.post("/v1/recommend/next", json={"task": "x", "trace_id": "nope"}, headers=_auth())
    assert unknown.status_code == 404 and unknown.json()["detail"]["field"] == "trace_id"


def test_next_and_team_answer(client: TestClient) -> None:
    nxt = client.post("/v1/recommend/next", json={"task": "weather in Oslo", "trace_id": "t000",
                                                   "node_id": "c0", "kind": "tool", "k": 2}, headers=_auth())
    assert nxt.status_code == 200
    recs = nxt.json()["recommendations"]
    assert len(recs) == 2 and {r["name"] for r in recs} <= {e.name for e in POOL}
    assert set(recs[0]["contributions"]) >= {"interaction", "relevance", "reliability", "structure", "content"}
    assert recs[0]["probability"] >= recs[1]["probability"]
    team = client.post("/v1/recommend/team", json={"task": "weather in Oslo", "max_size": 2}, headers=_auth())
    assert team.status_code == 200 and team.json()["connected"] is True
    schema = client.get("/openapi.json", headers=_auth()).json()
    assert "/v1/recommend/next" in schema["paths"]


def test_langchain_tool(service: RecommendService) -> None:
    tool = recommend_next_agent_tool(service)
    assert tool.name == "recommend_next_agent"
    out = tool.invoke({"task": "Compute 6 times seven", "k": 2, "kind": "tool"})
    assert len(out) == 2 and all({"name", "probability", "top_reason"} <= set(r) for r in out)

