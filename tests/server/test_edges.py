"""The HTTP edges against the real server: uvicorn in its own process, spoken to over sockets.

The server is started by `tests.server.serve_fake` (the production `serve` with the guarded
protocol and `EdgeGuard`; only the embeddings are a fake), so what is checked here is what a
client on the network sees: which status comes back, how fast, and how much of a body the server
took before it answered.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from coachgraph.recommend.service import RecommendService
from coachgraph.server.guard import MAX_BODY_BYTES
from coachgraph.server.protocol import HEAD_LIMIT_BYTES, HEAD_TIMEOUT_S

KEY = "edge-key-1"
BODY_TIMEOUT_S = 2.0
REPO = Path(__file__).resolve().parents[2]
HUNDRED_MB = 100 * 1024 * 1024


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        time.sleep(0.3)  # the access line is written just after the response
        return "\n".join(self.log)


@pytest.fixture(scope="module")
def server(service: RecommendService) -> Iterator[Server]:
    env = {**os.environ, "COACHGRAPH_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "tests.server.serve_fake", service.location,
                                str(BODY_TIMEOUT_S)], cwd=REPO, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = process.stdout.readline().strip() if process.stdout else ""
        assert first.startswith("http://127.0.0.1:"), f"no startup line: {first!r} {process.stderr.read() if process.stderr else ''}"
        started = Server(url=first, port=int(first.rsplit(":", 1)[1]), process=process)
        threading.Thread(target=_drain, args=(process, started.log), daemon=True).start()
        yield started
    finally:
        process.terminate()
        process.wait(timeout=30)


def _drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line.rstrip("\n"))


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=HEAD_TIMEOUT_S + 10)
    return sock


def _head(path: str, *, length: int | None = None, key: str | None = KEY, extra: str = "") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: test", "Content-Type: application/json"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, bytes]:
    """Status and raw response, read until the server closes or the declared body is in."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(v) for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])
                   if k.strip().lower() == b"content-length"), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split()[1]), head + b"\r\n\r\n" + body


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_startup_line_names_the_listening_address(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"


def test_no_key_is_refused_before_any_body_byte(server: Server) -> None:
    with _connect(server) as sock:
        start = time.perf_counter()
        sock.sendall(_head("/v1/recommend/next", length=HUNDRED_MB, key=None))
        status, raw = _response(sock)
        elapsed = time.perf_counter() - start
        assert status == 401 and b"www-authenticate: bearer" in raw.lower()
        assert elapsed < 2.0
        assert _closed(sock), "the server must not wait for the unread body"
    wrong = httpx.post(f"{server.url}/v1/recommend/next", json={"task": "x"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_declared_oversized_body_is_refused_unread(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head("/v1/recommend/next", length=HUNDRED_MB))
        status, raw = _response(sock)
        assert status == 413 and b"104,857,600" in raw
        assert _closed(sock)


def test_streamed_oversized_body_stops_at_the_limit(server: Server) -> None:
    """A chunked body without a declared length is counted while read and cut at the limit."""
    chunk = b"x" * 65536
    sent = 0
    with _connect(server) as sock:
        sock.sendall(_head("/v1/recommend/next", extra="Transfer-Encoding: chunked\r\n"))
        try:
            while sent < HUNDRED_MB:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            status = _response(sock)[0]
        except ConnectionResetError:
            status = None  # the refusal may be lost in the reset; the cut-off is what matters
    assert sent < 16 * MAX_BODY_BYTES, f"the client pushed {sent:,} bytes before the server stopped it"
    assert status in (413, None)
    assert '"POST /v1/recommend/next" 413' in server.log_text()


def test_docs_and_schema_need_the_key(server: Server) -> None:
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert httpx.get(f"{server.url}{path}").status_code == 401, path
    auth = {"Authorization": f"Bearer {KEY}"}
    schema = httpx.get(f"{server.url}/openapi.json", headers=auth).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/v1/recommend/next"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    assert httpx.get(f"{server.url}/docs", headers=auth).status_code == 200


def test_slow_body_gets_408(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head("/v1/recommend/next", length=100) + b'{"task": ')
        start = time.perf_counter()
        status, _ = _response(sock)
    assert status == 408 and BODY_TIMEOUT_S - 0.5 < time.perf_counter() - start < BODY_TIMEOUT_S + 3


def test_oversized_head_gets_431(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head("/healthz", extra=f"X-Filler: {'a' * (HEAD_LIMIT_BYTES + 10)}\r\n"))
        assert _response(sock)[0] == 431


def test_malformed_requests_get_4xx_and_the_server_stays_up(server: Server) -> None:
    auth = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    url = f"{server.url}/v1/recommend/next"
    assert httpx.post(url, content=b'{"task": ', headers=auth).status_code == 422
    assert httpx.post(url, content=b"[" * 400_000 + b"]" * 400_000, headers=auth).status_code in (400, 422)
    assert httpx.post(url, content=b"\xff\xfe\x00garbage", headers=auth).status_code in (400, 422)
    assert httpx.post(url, json={"task": "x", "k": "many"}, headers=auth).status_code == 422
    with _connect(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert _response(sock)[0] == 400
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_slow_clients_do_not_starve_good_ones(server: Server) -> None:
    """Sockets that trickle a request head are closed after the head deadline, while other
    clients are answered at once."""
    slow = [_connect(server) for _ in range(100)]
    for sock in slow:
        sock.sendall(b"POST /v1/recommend/next HTTP/1.1\r\nHost: t")
    auth = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(headers=auth) as client:
        answers = [client.post(f"{server.url}/v1/recommend/next", json={"task": f"weather in Oslo {i}"})
                   for i in range(30)]
    assert [a.status_code for a in answers] == [200] * 30
    time.sleep(HEAD_TIMEOUT_S + 1)
    assert all(_response(sock)[0] == 408 for sock in slow)
    for sock in slow:
        sock.close()


def test_access_log_has_one_line_per_request(server: Server) -> None:
    httpx.post(f"{server.url}/v1/recommend/next", json={"task": "log me"}, headers={"Authorization": f"Bearer {KEY}"})
    httpx.get(f"{server.url}/healthz?probe=1")
    text = server.log_text()
    assert '"POST /v1/recommend/next" 200' in text and '"GET /healthz?probe=1" 200' in text
    assert KEY not in text
    line = next(line for line in text.splitlines() if "probe=1" in line)
    assert line.split()[2].startswith("127.0.0.1:") and line.endswith("ms")


def test_the_body_read_by_the_guard_reaches_the_route(server: Server) -> None:
    body = json.dumps({"task": "Translate this note into German", "k": 2, "kind": "tool"})
    answer = httpx.post(f"{server.url}/v1/recommend/next", content=body,
                        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert answer.status_code == 200 and len(answer.json()["recommendations"]) == 2
