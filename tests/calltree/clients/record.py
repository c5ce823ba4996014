"""Run a test program under one real tracing client and write its traces as that client does.

Each client runs in a process of its own (`python -m tests.calltree.clients.record CLIENT OUT
[PROGRAM]`), since instrumentors patch LangChain and LangGraph for the whole process. PROGRAM is
`test` (the default: `program.py`'s three runs) or `corpus:RUNS:SEED` (`corpus.py`'s program,
RUNS tasks of the organisation drawn from SEED).

- `openinference`, `otel-genai`, `traceloop`: the client's instrumentor with an OpenTelemetry
  SDK `TracerProvider` whose `BatchSpanProcessor` feeds OpenTelemetry's OTLP JSON file exporter
  (`FileSpanExporter`), which appends one `ExportTraceServiceRequest` per exported batch to
  `spans.jsonl`. Batches are kept small, so traces are split across lines.
- `langsmith`: LangChain's `LangChainTracer` on a LangSmith `Client` whose HTTP session answers
  the run create and update requests it sends (no network); the runs are merged as LangSmith
  stores them and written through the SDK's `Run` schema to `runs.jsonl`.

`expected.json` holds what each run did (for the test program, `program.Expected` with token
usage; for the corpus, each run's task, thread, outcome and handoffs).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter

__all__ = ["CLIENTS", "main"]

_BATCH = 16
"""Spans per exported batch: small, so that a trace spans several export requests."""


def _run(program: str) -> list[Any]:
    """Run the program `program` names (imported here: after the client instruments)."""
    if program == "test":
        from tests.calltree.clients.program import run_program

        return [asdict(e) for e in run_program()]
    from tests.calltree.clients.corpus import run_corpus

    return run_corpus(program.removeprefix("corpus:"))


def _otel(instrumentor: Any, out: Path, program: str) -> None:
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(FileSpanExporter(out / "spans.jsonl"),
                                                   max_export_batch_size=_BATCH))
    instrumentor.instrument(tracer_provider=provider)
    try:  # as the clients' guides ask: instrument first, then import the application
        expected = _run(program)
    finally:
        provider.shutdown()
        instrumentor.uninstrument()
    _write_expected(out, expected)


def _openinference(out: Path, program: str) -> None:
    from openinference.instrumentation.langchain import LangChainInstrumentor

    _otel(LangChainInstrumentor(), out, program)


def _otel_genai(out: Path, program: str) -> None:
    # Message content goes on spans only when asked for (the default records none).
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor

    _otel(LangChainInstrumentor(), out, program)


def _traceloop(out: Path, program: str) -> None:
    from opentelemetry.instrumentation.langchain import LangchainInstrumentor

    _otel(LangchainInstrumentor(), out, program)


class _LangSmithEndpoint(BaseAdapter):
    """Answers what a LangSmith `Client` sends as the service would, keeping every run body."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, dict[str, Any]] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.receive(str(request.method), str(request.url), request.body)
        response = requests.Response()
        response.status_code, response._content = 200, b"{}"
        response.url, response.request = str(request.url), request
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        """Nothing to release."""

    def receive(self, method: str, url: str, body: bytes | str | None) -> None:
        """`POST /runs` creates a run, `PATCH /runs/{id}` completes it; nothing else is kept."""
        parts = url.split("?")[0].rstrip("/").split("/")
        if method == "POST" and parts[-1] == "runs":
            run = json.loads(body or b"{}")
            self.runs[str(run["id"])] = run
        elif method == "PATCH" and parts[-2] == "runs":
            self.runs[parts[-1]].update(json.loads(body or b"{}"))


def _langsmith(out: Path, program: str) -> None:
    from langchain_core.tracers import LangChainTracer
    from langsmith import Client, schemas, tracing_context

    endpoint = _LangSmithEndpoint()
    session = requests.Session()
    session.mount("http://langsmith.test", endpoint)
    client = Client(api_url="http://langsmith.test", api_key="test-key", session=session,
                    auto_batch_tracing=False)
    with tracing_context(client=client, project_name="clients", enabled=True):
        expected = _run(program)
    LangChainTracer(client=client).wait_for_futures()
    client.flush()
    with (out / "runs.jsonl").open("w", encoding="utf-8") as handle:
        for run in endpoint.runs.values():
            handle.write(schemas.Run(**run).model_dump_json() + "\n")
    _write_expected(out, expected)


def _write_expected(out: Path, expected: list[Any]) -> None:
    (out / "expected.json").write_text(json.dumps(expected))


CLIENTS: dict[str, Callable[[Path, str], None]] = {
    "openinference": _openinference,
    "otel-genai": _otel_genai,
    "traceloop": _traceloop,
    "langsmith": _langsmith,
}
"""Client name → recorder writing a program's traces and `expected.json` under a folder."""


def main(argv: list[str]) -> None:
    """`record.py CLIENT OUT [PROGRAM]`: run PROGRAM under CLIENT, writing under folder OUT."""
    client, out, *program = argv
    Path(out).mkdir(parents=True, exist_ok=True)
    CLIENTS[client](Path(out), program[0] if program else "test")


if __name__ == "__main__":
    main(sys.argv[1:])
