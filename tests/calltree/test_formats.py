"""Foreign span formats: OTel GenAI (older and latest attribute sets), LangSmith, OpenInference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore

TRACE = "5b8efff798038103d269b633813fc60c"


def _attr(key: str, value: Any) -> dict[str, Any]:
    kinds = {str: "stringValue", int: "intValue", bool: "boolValue", float: "doubleValue"}
    encoded = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return {"key": key, "value": {kinds[type(value)]: encoded}}


def _span(span_id: str, parent: str | None, name: str, attrs: dict[str, Any],
          code: int = 1, **extra: Any) -> dict[str, Any]:
    span = {"traceId": TRACE, "spanId": span_id, "name": name,
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001500000000",
            "attributes": [_attr(k, v) for k, v in attrs.items()], "status": {"code": code}}
    return span | ({"parentSpanId": parent} if parent else {}) | extra


LATEST = [
    _span("a1", None, "invoke_agent planner", {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
        "gen_ai.provider.name": "openai", "gen_ai.conversation.id": "conv-1",
        "gen_ai.input.messages": json.dumps([{"role": "user", "content": "Plan a trip"}])}),
    _span("t1", "a1", "execute_tool get_weather", {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "call_1", "gen_ai.tool.call.arguments": '{"city": "Paris"}',
        "gen_ai.tool.call.result": '{"temp": 21}', "error.type": "TimeoutError"}, code=2),
    _span("c1", "a1", "chat gpt-4o", {"gen_ai.operation.name": "chat",
                                      "gen_ai.usage.input_tokens": 12,
                                      "gen_ai.usage.output_tokens": 5}),
]
OLDER = [
    _span("b1", None, "chat gpt-3.5", {"gen_ai.system": "openai",
                                       "gen_ai.usage.prompt_tokens": 7,
                                       "gen_ai.usage.completion_tokens": 2},
          events=[{"name": "gen_ai.content.prompt",
                   "attributes": [_attr("gen_ai.prompt", "Hello there")]},
                  {"name": "gen_ai.content.completion",
                   "attributes": [_attr("gen_ai.completion", "Hi")]}]),
]


def _envelope(spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {"attributes": []},
                               "scopeSpans": [{"scope": {"name": "x"}, "spans": spans}]}]}


def _ingest(fmt: str, file: Path) -> SQLiteCallTreeStore:
    store = SQLiteCallTreeStore(":memory:")
    report = ingest(store, fmt, [file])
    assert report.quarantined == []
    return store


def test_genai_latest_attributes(tmp_path: Path) -> None:
    file = tmp_path / "latest.json"
    file.write_text(json.dumps(_envelope(LATEST)))
    tree = _ingest("otlp-json", file).get_tree(TRACE)
    assert tree is not None and tree.task == "Plan a trip" and tree.success is True
    root, tool, chat = (tree.node(i) for i in ("a1", "t1", "c1"))
    assert (root.kind, root.agent, root.session_id) == ("agent", "planner", "conv-1")
    assert (tool.kind, tool.tool, tool.status, tool.error) == ("tool", "get_weather", "error",
                                                               "TimeoutError")
    assert tool.inputs == {"city": "Paris"} and tool.outputs == {"temp": 21}
    assert tool.attributes == {"gen_ai.tool.call.id": "call_1"}
    assert chat.usage == {"input_tokens": 12, "output_tokens": 5} and chat.duration_s == 1.5


def test_genai_older_attributes_jsonl(tmp_path: Path) -> None:
    file = tmp_path / "older.jsonl"
    file.write_text(json.dumps(_envelope(OLDER)) + "\n")
    tree = _ingest("otlp-json", file).get_tree(TRACE)
    assert tree is not None
    node = tree.node("b1")
    assert (node.kind, node.inputs, node.outputs) == ("llm", "Hello there", "Hi")
    assert node.usage == {"input_tokens": 7, "output_tokens": 2}
    assert node.attributes == {"gen_ai.system": "openai"}


def test_langsmith_runs(tmp_path: Path) -> None:
    runs = [
        {"id": "r2", "trace_id": "r1", "parent_run_id": "r1", "name": "transfer_to_critic",
         "run_type": "tool", "dotted_order": "20260101T000000000001Zr1.20260101T000000000002Zr2",
         "inputs": {}, "outputs": {}, "status": "success",
         "extra": {"metadata": {"langgraph_node": "student"}}},
        {"id": "r1", "trace_id": "r1", "parent_run_id": None, "name": "LangGraph",
         "run_type": "chain", "dotted_order": "20260101T000000000001Zr1",
         "inputs": {"question": "2+2?"}, "start_time": "2026-01-01T00:00:00Z",
         "end_time": "2026-01-01T00:00:02Z", "status": "error", "error": "boom",
         "total_tokens": 9, "extra": {"metadata": {"thread_id": "th"}}},
        {"id": "r3", "trace_id": "r1", "parent_run_id": "r1", "name": "ChatModel",
         "run_type": "llm", "dotted_order": "20260101T000000000001Zr1.20260101T000000000003Zr3",
         "prompt_tokens": 3},
    ]
    file = tmp_path / "runs.json"
    file.write_text(json.dumps(runs))
    tree = _ingest("langsmith", file).get_tree("r1")
    assert tree is not None
    assert [n.id for n in tree.nodes] == ["r1", "r2", "r3"]
    assert (tree.task, tree.success, tree.session_id) == ("2+2?", False, "th")
    assert (tree.node("r2").kind, tree.node("r2").agent) == ("handoff", "student")
    assert tree.node("r1").usage == {"total_tokens": 9} and tree.node("r1").duration_s == 2.0


def test_openinference_flat_spans(tmp_path: Path) -> None:
    spans = [
        {"name": "agent", "context": {"trace_id": "0xabc", "span_id": "0x01"}, "parent_id": None,
         "start_time": "2026-01-01T00:00:00+00:00", "end_time": "2026-01-01T00:00:01+00:00",
         "status": {"status_code": "OK"},
         "attributes": {"openinference.span.kind": "AGENT", "agent.name": "router",
                        "input.value": "Find a flight", "session.id": "s", "user.id": "u",
                        "graph.node.id": "router"}},
        {"name": "search", "context": {"trace_id": "0xabc", "span_id": "0x02"},
         "parent_id": "0x01", "status": {"status_code": "ERROR", "description": "timeout"},
         "attributes": {"openinference.span.kind": "TOOL", "tool.name": "search_flights",
                        "llm.token_count.prompt": 4, "output.value": '{"n": 0}'}},
    ]
    file = tmp_path / "spans.json"
    file.write_text(json.dumps(spans))
    tree = _ingest("openinference", file).get_tree("abc")
    assert tree is not None and (tree.task, tree.success) == ("Find a flight", True)
    root, tool = tree.node("01"), tree.node("02")
    assert (root.kind, root.agent, root.user_id) == ("agent", "router", "u")
    assert root.attributes == {"graph.node.id": "router"}
    assert (tool.kind, tool.tool, tool.parent_id, tool.error) == ("tool", "search_flights",
                                                                  "01", "timeout")
    assert tool.outputs == {"n": 0} and tool.usage == {"input_tokens": 4}


def test_agent_spans_name_their_agent_when_no_attribute_does(tmp_path: Path) -> None:
    """An OpenInference `AGENT` span and an `invoke_agent X` span without an agent name attribute
    are agent X; the calls under them are X's."""
    spans = [
        {"name": "trip_agent", "context": {"trace_id": "0xabc", "span_id": "0x01"},
         "start_time": "2026-01-01T00:00:00+00:00", "end_time": "2026-01-01T00:00:02+00:00",
         "attributes": {"openinference.span.kind": "AGENT", "input.value": "Find a flight"}},
        {"name": "search", "context": {"trace_id": "0xabc", "span_id": "0x02"},
         "parent_id": "0x01", "start_time": "2026-01-01T00:00:01+00:00",
         "attributes": {"openinference.span.kind": "TOOL", "tool.name": "search_flights"}},
    ]
    file = tmp_path / "spans.json"
    file.write_text(json.dumps(spans))
    tree = _ingest("openinference", file).get_tree("abc")
    assert tree is not None and (tree.success, tree.task) == (True, "Find a flight")
    assert [(n.kind, n.agent) for n in tree.nodes] == [("agent", "trip_agent"),
                                                      ("tool", "trip_agent")]
    genai = [_span("a1", None, "invoke_agent planner", {"gen_ai.operation.name": "invoke_agent"},
                   code=0),
             _span("c1", "a1", "chat gpt-4o", {"gen_ai.operation.name": "chat"}, code=0)]
    file = tmp_path / "genai.json"
    file.write_text(json.dumps(_envelope(genai)))
    tree = _ingest("otlp-json", file).get_tree(TRACE)
    assert tree is not None and tree.success is True
    assert [(n.kind, n.agent) for n in tree.nodes] == [("agent", "planner"), ("llm", "planner")]
