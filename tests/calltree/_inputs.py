"""A small well-formed input of every ingest format, written where a test wants it.

Each writer puts its input under a folder and returns the path to ingest (a file or the
folder); `RECORD_FILES` names the file of each input that holds its trace records. `SHAPES`
adds the other layouts tracing clients write for a format (OTLP/JSON Lines as the OTel file
exporter writes them, bare `ResourceSpans` lines, one request per file, LangSmith SDK runs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["INPUTS", "RECORD_FILES", "SHAPES", "Shape", "otlp_span", "write_input",
           "write_shape"]


def _attr(key: str, value: Any) -> dict[str, Any]:
    kinds = {str: "stringValue", int: "intValue", bool: "boolValue", float: "doubleValue"}
    encoded = str(value) if type(value) is int else value
    return {"key": key, "value": {kinds[type(value)]: encoded}}


def otlp_span(trace: str, span: str, parent: str | None, name: str,
              attrs: dict[str, Any], start: int = 0) -> dict[str, Any]:
    """An OTLP/JSON span with GenAI-style attributes (`start`: seconds after the first)."""
    begin = 1_700_000_000_000_000_000 + start * 1_000_000_000
    return {"traceId": trace, "spanId": span, "parentSpanId": parent or "", "name": name,
            "startTimeUnixNano": str(begin), "endTimeUnixNano": str(begin + 1_000_000_000),
            "status": {"code": 1}, "attributes": [_attr(k, v) for k, v in attrs.items()]}


OTLP = {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "demo")]},
                           "scopeSpans": [{"scope": {"name": "x"}, "spans": [
    otlp_span("aa01", "s1", None, "invoke_agent planner", {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
        "gen_ai.input.messages": json.dumps([{"role": "user", "content": "Plan a trip"}])}),
    otlp_span("aa01", "s2", "s1", "execute_tool search", {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}),
    otlp_span("bb02", "s3", None, "chat gpt", {"gen_ai.operation.name": "chat",
                                                "gen_ai.usage.input_tokens": 3}),
]}]}]}

OPENINFERENCE = [
    {"name": "agent", "context": {"trace_id": "0xc1", "span_id": "0x01"}, "parent_id": None,
     "start_time": "2026-01-01T00:00:00+00:00", "status": {"status_code": "OK"},
     "attributes": {"openinference.span.kind": "AGENT", "agent.name": "router",
                    "input.value": "Find a flight"}},
    {"name": "search", "context": {"trace_id": "0xc1", "span_id": "0x02"}, "parent_id": "0x01",
     "attributes": {"openinference.span.kind": "TOOL", "tool.name": "search_flights"}},
    {"name": "llm", "context": {"trace_id": "0xd2", "span_id": "0x03"},
     "attributes": {"openinference.span.kind": "LLM"}},
]

LANGSMITH = [
    {"id": "r1", "trace_id": "r1", "parent_run_id": None, "name": "LangGraph", "run_type": "chain",
     "dotted_order": "1", "inputs": {"question": "2+2?"}, "status": "success"},
    {"id": "r2", "trace_id": "r1", "parent_run_id": "r1", "name": "ChatModel", "run_type": "llm",
     "dotted_order": "1.2", "extra": {"metadata": {"langgraph_node": "student"}}},
    {"id": "q1", "trace_id": "q1", "name": "Other", "run_type": "chain", "dotted_order": "2",
     "start_time": "2026-01-01T00:00:00Z"},
]

AGENT_REC_GRAPHS = {"traces": [
    {"trace_id": "t1", "nodes": {"n1": {"task": "Call search", "input_spec": "{}",
                                        "output_spec": "r"},
                                 "n2": {"task": "Call critic", "input_spec": "r",
                                        "output_spec": "ok"}},
     "edges": [["n1", "n2"]], "decisions": []},
    {"trace_id": "t2", "nodes": {"m": {"task": "Call search", "input_spec": "{}",
                                       "output_spec": "r"}}, "edges": []},
]}
AGENT_REC_POOL = {"tools": {"search": {"description": "Search", "inputs": "query"},
                            "critic": {"description": "Checks", "inputs": "x", "kind": "agent"}}}

WHO_AND_WHEN = {
    "Hand-Crafted/1.json": {
        "question": "Where?", "ground_truth": "Here", "is_corrected": False,
        "mistake_agent": "WebSurfer", "mistake_step": "1", "mistake_reason": "wrong page",
        "history": [{"role": "human", "content": "Where?"},
                    {"role": "Orchestrator (-> WebSurfer)", "content": "Search it"},
                    {"role": "WebSurfer", "content": "Found it"}]},
    "Algorithm-Generated/2.json": {
        "question": "How much?", "is_correct": False, "question_ID": "q2", "level": "1",
        "mistake_agent": "Excel_Expert", "mistake_step": "0", "mistake_reason": "sum",
        "system_prompt": {"Excel_Expert": "Knows spreadsheets"},
        "history": [{"name": "Excel_Expert", "role": "user", "content": "It is 3"},
                    {"name": "Computer_terminal", "role": "user", "content": "exitcode: 0"}]},
}

SEAL_TOOLS = {
    "tool.jsonl": [{"api_name": "getWeather", "api_description": "Weather", "parameters": {},
                    "required": []},
                   {"api_name": "book", "api_description": "Books", "parameters": {},
                    "required": []}],
    "dev.jsonl": [{"id": "dev-easy-1", "query": "Weather?", "calling": [
                       {"api": "getWeather", "parameters": {"city": "Paris"},
                        "responses": ["API_call_0"]}]},
                  {"id": "dev-difficult-2", "query": "Book it", "calling": [
                      {"api": "getWeather", "parameters": {}, "responses": ["API_call_0"]},
                      {"api": "book", "parameters": {"when": "API_call_0"}, "responses": []}]}],
}

NESTFUL_DATA = [
    {"input": "Find flights", "output": [
        {"name": "Search", "arguments": {"q": "NYC"}, "label": "var1"},
        {"name": "Flights", "arguments": {"from": "$var1.id$"}, "label": "var2"},
        {"name": "var_result", "arguments": {"flights": "$var2$"}}]},
    {"input": "Weather", "output": [{"name": "Weather", "arguments": {}, "label": "var1"}]},
]
NESTFUL_SPEC = [{"name": "Search", "description": "Searches", "parameters": {}},
                {"name": "Flights", "description": "Flights", "parameters": {}}]


def _node(kind: str, description: str, children: list[Any]) -> dict[str, Any]:
    return {"node_type": kind, "description": description, "children": children,
            "is_terminal": False, "depth": 0}


TOOLBENCH = {
    "win": True, "forward_args": {"method": "DFS"},
    "tree": {"size": 4, "max_length": 3, "tree": _node("Action Input", "", [
        _node("Thought", "think", [_node("Action", "get_data", [
            _node("Action Input", '{"id": 1}', [])])])])},
    "answer_generation": {"query": "Get the data", "final_answer": "done",
                          "finish_type": "give_answer", "valid_data": True,
                          "function": [{"name": "get_data", "description": "Gets data",
                                        "parameters": {}}]},
}

ADP = [
    {"id": "a1", "content": [
        {"class_": "text_observation", "source": "user", "content": "Open the page"},
        {"class_": "api_action", "function": "browse", "kwargs": {"url": "x"},
         "description": None},
        {"class_": "text_observation", "source": "environment", "content": "opened"},
        {"class_": "message_action", "content": "Done", "description": None}],
     "details": {}},
    {"id": "a2", "content": [
        {"class_": "code_action", "language": "python", "content": "print(1)"}],
     "details": {}},
]


def _json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


def _jsonl(path: Path, values: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")


def _otlp(folder: Path) -> Path:
    _json(folder / "spans.json", OTLP)
    return folder / "spans.json"


def _openinference(folder: Path) -> Path:
    _json(folder / "spans.json", OPENINFERENCE)
    return folder / "spans.json"


def _langsmith(folder: Path) -> Path:
    _json(folder / "runs.json", LANGSMITH)
    return folder / "runs.json"


def _agent_rec(folder: Path) -> Path:
    _json(folder / "tool_calling_graphs.json", AGENT_REC_GRAPHS)
    _json(folder / "tool_pool.json", AGENT_REC_POOL)
    return folder


def _who_and_when(folder: Path) -> Path:
    for name, record in WHO_AND_WHEN.items():
        _json(folder / name, record)
    return folder


def _seal_tools(folder: Path) -> Path:
    for name, records in SEAL_TOOLS.items():
        _jsonl(folder / name, records)
    return folder


def _nestful(folder: Path) -> Path:
    _json(folder / "demo-data.json", NESTFUL_DATA)
    _json(folder / "demo-spec.json", NESTFUL_SPEC)
    return folder


def _toolbench(folder: Path) -> Path:
    _json(folder / "G1_answer" / "7_DFS.json", TOOLBENCH)
    return folder


def _adp(folder: Path) -> Path:
    _json(folder / "demo_source" / "sample_std.json", ADP)
    return folder


INPUTS: dict[str, Callable[[Path], Path]] = {
    "otlp-json": _otlp, "openinference": _openinference, "langsmith": _langsmith,
    "agent-rec": _agent_rec, "who-and-when": _who_and_when, "seal-tools": _seal_tools,
    "nestful": _nestful, "toolbench-dfsdt": _toolbench, "adp": _adp,
}
"""Every ingest format with a writer of a small valid input for it."""

RECORD_FILES: dict[str, str] = {
    "otlp-json": "spans.json", "openinference": "spans.json", "langsmith": "runs.json",
    "agent-rec": "tool_calling_graphs.json", "who-and-when": "Hand-Crafted/1.json",
    "seal-tools": "dev.jsonl", "nestful": "demo-data.json", "toolbench-dfsdt": "G1_answer/7_DFS.json",
    "adp": "demo_source/sample_std.json",
}
"""The file of each input (relative to its folder) that holds trace records."""


def write_input(fmt: str, folder: Path) -> Path:
    """Write the valid input of `fmt` under `folder`; returns the path to ingest."""
    return INPUTS[fmt](folder)


_ASSOCIATION = "traceloop.association.properties."
TRACELOOP_BATCHES = [
    [otlp_span("7a01", "c1", "w1", "supervisor.task", {
        "traceloop.span.kind": "task", "traceloop.entity.name": "supervisor",
        "traceloop.entity.path": "LangGraph", f"{_ASSOCIATION}thread_id": "thread-1",
        f"{_ASSOCIATION}langgraph_node": "supervisor"}, start=1),
     otlp_span("7a01", "c2", "c1", "ChatOpenAI.chat", {
         "llm.request.type": "chat", "gen_ai.prompt.0.role": "user",
         "gen_ai.prompt.0.content": "Plan a trip", "gen_ai.completion.0.content": "On it",
         "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 4,
         "traceloop.entity.path": "LangGraph.supervisor",
         f"{_ASSOCIATION}lc_agent_name": "supervisor"}, start=2)],
    [otlp_span("7a01", "c3", "c1", "transfer_to_planner.tool", {
        "traceloop.span.kind": "tool", "traceloop.entity.name": "transfer_to_planner",
        "traceloop.entity.output": json.dumps({"output": {"graph": "__parent__", "update": {},
                                                          "goto": "planner"}})}, start=3),
     otlp_span("7a01", "w1", None, "LangGraph.workflow", {
         "traceloop.span.kind": "workflow", "traceloop.entity.name": "LangGraph",
         "traceloop.entity.input": json.dumps({"inputs": {"messages": [
             {"role": "user", "content": "Plan a trip"}]}, "tags": [], "metadata": {},
             "kwargs": {"name": "LangGraph"}})}),
     otlp_span("8b02", "d1", None, "ChatOpenAI.chat", {
         "llm.request.type": "chat", "gen_ai.prompt.0.content": "Hello"})],
]
"""Traceloop spans of two traces, as a `BatchSpanProcessor` exports them (children first):
the first trace's spans lie in both batches."""

OPENINFERENCE_BATCHES = [
    [otlp_span("9c03", "e2", "e1", "model", {
        "openinference.span.kind": "LLM", "llm.token_count.prompt": 9,
        "llm.token_count.completion": 3, "session.id": "thread-2",
        "metadata": json.dumps({"lc_agent_name": "researcher", "thread_id": "thread-2",
                                "langgraph_checkpoint_ns": "researcher:1|model:2"})}, start=1)],
    [otlp_span("9c03", "e1", None, "LangGraph", {
        "openinference.span.kind": "CHAIN", "input.value": json.dumps({"messages": [
            {"type": "human", "content": "Find papers"}]}), "session.id": "thread-2"})],
]
"""OpenInference spans of one trace in two batches."""


def _resource(spans: list[dict[str, Any]], scope: str) -> dict[str, Any]:
    return {"resource": {"attributes": [_attr("service.name", "demo")]},
            "scopeSpans": [{"scope": {"name": scope}, "spans": spans}]}


def _traces_data(batches: list[list[dict[str, Any]]], scope: str,
                 file: Path) -> Path:
    """JSON Lines of `TracesData`, one per batch, as the OTel file exporter writes them."""
    _jsonl(file, [{"resourceSpans": [_resource(batch, scope)]} for batch in batches])
    return file


def _bare_resource_spans(folder: Path) -> Path:
    _jsonl(folder / "spans.jsonl", [_resource(batch, "traceloop") for batch in
                                    TRACELOOP_BATCHES])
    return folder / "spans.jsonl"


def _requests(folder: Path) -> Path:
    """One `ExportTraceServiceRequest` per file, as an OTLP/HTTP receiver keeps them."""
    for index, batch in enumerate(TRACELOOP_BATCHES):
        _json(folder / f"request-{index}.json", {"resourceSpans": [_resource(batch, "tl")]})
    return folder


LANGSMITH_RUNS = [
    {"id": "u1", "trace_id": "u1", "parent_run_id": None, "name": "LangGraph",
     "run_type": "chain", "dotted_order": "20260101T000000000000Zu1", "status": "success",
     "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T00:00:03Z",
     "inputs": {"messages": [{"type": "human", "content": "Book a table"}]}, "outputs": {},
     "session_id": "4f1c0c0e-0000-0000-0000-000000000001", "tags": [], "error": None,
     "extra": {"metadata": {"thread_id": "thread-3"}}, "prompt_tokens": None,
     "total_cost": None},
    {"id": "u2", "trace_id": "u1", "parent_run_id": "u1", "name": "model", "run_type": "llm",
     "dotted_order": "20260101T000000000000Zu1.20260101T000001000000Zu2", "status": "success",
     "start_time": "2026-01-01T00:00:01Z", "end_time": "2026-01-01T00:00:02Z",
     "inputs": {}, "outputs": {}, "session_id": "4f1c0c0e-0000-0000-0000-000000000001",
     "extra": {"metadata": {"thread_id": "thread-3", "lc_agent_name": "host",
                            "langgraph_node": "model",
                            "langgraph_checkpoint_ns": "host:1|model:2",
                            "usage_metadata": {"input_tokens": 7, "output_tokens": 2,
                                               "total_tokens": 9}}},
     "prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9, "total_cost": "0.00042"},
]
"""LangSmith runs as the SDK's `Run` schema writes them (JSON Lines)."""


def _langsmith_lines(folder: Path) -> Path:
    _jsonl(folder / "runs.jsonl", LANGSMITH_RUNS)
    return folder / "runs.jsonl"


class Shape(NamedTuple):
    """One input layout: the format it is read as, its writer and its record file."""

    format: str
    write: Callable[[Path], Path]
    record_file: str


SHAPES: dict[str, Shape] = {
    **{fmt: Shape(fmt, write, RECORD_FILES[fmt]) for fmt, write in INPUTS.items()},
    "otlp-json/traces-data.jsonl": Shape("otlp-json", lambda folder: _traces_data(
        TRACELOOP_BATCHES, "traceloop", folder / "spans.jsonl"), "spans.jsonl"),
    "otlp-json/resource-spans.jsonl": Shape("otlp-json", _bare_resource_spans, "spans.jsonl"),
    "otlp-json/requests": Shape("otlp-json", _requests, "request-0.json"),
    "openinference/traces-data.jsonl": Shape("openinference", lambda folder: _traces_data(
        OPENINFERENCE_BATCHES, "openinference", folder / "spans.jsonl"), "spans.jsonl"),
    "langsmith/runs.jsonl": Shape("langsmith", _langsmith_lines, "runs.jsonl"),
}
"""Every input layout: each format's own input, and the distinct layouts tracing clients write
(named `format/layout`)."""


def write_shape(name: str, folder: Path) -> Path:
    """Write the valid input of layout `name` under `folder`; returns the path to ingest."""
    return SHAPES[name].write(folder)
