"""The HTTP API: auth, validation errors naming the field, and answers from a trained store."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.config import Settings
from coachgraph.recommend.checkpoint import model_file
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.tool import recommend_next_agent_tool
from coachgraph.recommend.trainer import open_service, train_store
from coachgraph.server.app import create_app
from tests.fakes import HashEmbeddings
from tests.recommend._trees import EMB, FAST, POOL, make_store, make_tree

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


def test_reload_route_swaps_in_a_retrained_model(tmp_path: Path) -> None:
    location, settings, emb = str(tmp_path / "s.sqlite"), Settings(cache=tmp_path, default_embeddings=EMB), HashEmbeddings(dims=32)
    make_store(Path(location), n=30).close()
    svc = open_service(location, settings, embeddings=emb, config=FAST, watch_s=None)
    client = TestClient(create_app(location, api_key=KEY, service=svc))
    assert client.post("/v1/admin/reload").status_code == 401
    same = client.post("/v1/admin/reload", headers=_auth()).json()
    assert same["reloaded"] is False and same["fresh"] is True and same["trained_on"] == 30
    with SQLiteCallTreeStore(location) as store:
        store.put_trees([make_tree(i, "math", random.Random(i)) for i in range(30, 38)])
    stale = client.post("/v1/admin/reload", headers=_auth()).json()
    assert stale["reloaded"] is False and stale["fresh"] is False and "8 new or changed" in stale["detail"]
    train_store(location, settings, embeddings=emb, config=FAST)
    fresh = client.post("/v1/admin/reload", headers=_auth()).json()
    assert fresh["reloaded"] is True and fresh["fresh"] is True and (fresh["trained_on"], fresh["store_traces"]) == (38, 38)
    model_file(location, settings.cache).write_text("{not json")
    refused = client.post("/v1/admin/reload", headers=_auth())
    assert refused.status_code == 409 and "not JSON" in refused.json()["detail"]["message"]
    answer = client.post("/v1/recommend/next", json={"task": "Compute 4 times seven", "k": 1}, headers=_auth())
    assert answer.status_code == 200 and answer.json()["recommendations"][0]["name"] == "calculator"
