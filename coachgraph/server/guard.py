"""The HTTP edge: every request passes `EdgeGuard` before any route sees it.

In this order, for every route (those added later included):

1. the bearer API key is checked from the headers alone, so a request without it gets 401
   before one byte of its body is read;
2. a body whose declared length is over the limit gets 413 before it is read;
3. the body is read with a running count and a deadline: a chunked body stops at the limit
   (413), a body that trickles in too slowly stops at the deadline (408);
4. only then does the application see the request, with the body already in memory.

A refusal of a request whose body was not read closes the connection, so the client cannot keep
streaming into it. One access-log line per request goes to the `coachgraph.server.access` logger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ACCESS_LOGGER", "BODY_TIMEOUT_S", "MAX_BODY_BYTES", "PUBLIC_PATHS", "EdgeGuard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_LOGGER = "coachgraph.server.access"
MAX_BODY_BYTES = 1 << 20
"""1 MiB: ten times the largest valid request (10,000 candidates with costs)."""
BODY_TIMEOUT_S = 30.0
"""Time a client has to send a whole body once its headers are in."""
PUBLIC_PATHS = frozenset({"/healthz"})
"""Paths answered without the key (when one is set); the docs and the schema are not among them."""

access_log = logging.getLogger(ACCESS_LOGGER)


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Disconnected(Exception):
    """The client went away while its body was being read: nothing to answer."""


class EdgeGuard:
    """ASGI middleware: API key, body size and body deadline checks, then access logging.

    Args:
        app: the application behind the edge.
        api_key: the bearer key every path but `PUBLIC_PATHS` needs; None needs none.
        max_body_bytes: the largest body read.
        body_timeout_s: the longest a client may take to send its body.
    """

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body_bytes: int = MAX_BODY_BYTES,
                 body_timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.key = api_key.encode() if api_key else None
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, sent = time.perf_counter(), {"status": 0, "bytes": 0}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._guarded(scope, receive, counting_send)
        finally:
            _log_access(scope, sent["status"], sent["bytes"], time.perf_counter() - start)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        unread = _declares_body(headers)
        try:
            self._check_key(scope, headers)
            self._check_declared_length(headers)
            body = await self._read_body(receive)
        except _Refused as refused:
            await _refuse(send, refused, close=unread, bearer=refused.status == 401)
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_key(self, scope: Scope, headers: dict[str, bytes]) -> None:
        if self.key is None or scope.get("path") in PUBLIC_PATHS:
            return
        scheme, _, given = headers.get("authorization", b"").partition(b" ")
        if scheme.lower() != b"bearer" or not secrets.compare_digest(given.strip(), self.key):
            raise _Refused(401, "missing or wrong bearer API key (header Authorization: Bearer KEY)")

    def _check_declared_length(self, headers: dict[str, bytes]) -> None:
        declared = headers.get("content-length")
        if declared is None:
            return
        if not declared.isdigit():
            raise _Refused(400, "Content-Length is not a number")
        if int(declared) > self.max_body_bytes:
            raise _Refused(413, f"request body of {int(declared):,} bytes is over the "
                                f"{self.max_body_bytes:,}-byte limit")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise _Refused(413, f"request body is over the {self.max_body_bytes:,}-byte limit")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise _Refused(408, f"request body not complete within {self.body_timeout_s:g} s") from None


def _declares_body(headers: dict[str, bytes]) -> bool:
    return headers.get("content-length", b"0") != b"0" or "transfer-encoding" in headers


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the application the body already read, then the real events."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(send: Send, refused: _Refused, *, close: bool, bearer: bool) -> None:
    payload = json.dumps({"detail": refused.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if bearer:
        headers.append((b"www-authenticate", b"Bearer"))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _log_access(scope: Scope, status: int, size: int, seconds: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    who = f"{client[0]}:{client[1]}" if client else "-"
    query = scope.get("query_string", b"")
    target = scope.get("path", "") + (f"?{query.decode('latin-1')}" if query else "")
    access_log.info('%s "%s %s" %d %dB %.1fms', who, scope.get("method", "-"), target,
                    status, size, seconds * 1000)
