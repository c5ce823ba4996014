"""uvicorn's httptools protocol with limits on the request head, where no ASGI code can see.

uvicorn keeps a connection that has sent nothing (or a byte at a time) open for as long as the
client likes, and collects a request line and headers of any length; so one client could hold
thousands of sockets (slowloris) or fill memory with one endless header. `GuardedHttpToolsProtocol`
gives each request head `HEAD_TIMEOUT_S` seconds from the connection (or from the request's first
byte) to arrive, answering 408 and closing otherwise, and `HEAD_LIMIT_BYTES` bytes, answering
431 and closing beyond. Bodies are limited by `EdgeGuard`.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from coachgraph.server.guard import ACCESS_LOGGER

__all__ = ["HEAD_LIMIT_BYTES", "HEAD_TIMEOUT_S", "GuardedHttpToolsProtocol"]

HEAD_TIMEOUT_S = 10.0
"""Time a client has to send a request line and headers."""
HEAD_LIMIT_BYTES = 32 * 1024
"""Largest request line plus headers (a long bearer token fits many times over)."""

access_log = logging.getLogger(ACCESS_LOGGER)

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the limit."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` plus a deadline and a size limit on every request head."""

    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a parser error with 400; a head over the limit gets 431 instead."""
        if self._head_bytes > HEAD_LIMIT_BYTES:
            self._refuse(431, f"request head over {HEAD_LIMIT_BYTES} bytes")
        else:
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > HEAD_LIMIT_BYTES:
            raise _HeadTooLarge

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._refuse(408, f"request head not complete within {HEAD_TIMEOUT_S:g} s")

    def _refuse(self, status: int, why: str) -> None:
        self._disarm()
        who = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        access_log.info('%s "- -" %d 0B (%s)', who, status, why)
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                             % (status, _REASONS[status]))
        self.transport.close()
