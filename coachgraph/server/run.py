"""Run the HTTP API under uvicorn: bind first, announce the address, then serve.

The socket is bound and listening (`bind`) before the application is built and before
`on_listening` announces it, so a taken port fails at once and a client that connects early
waits in the backlog instead of being refused. Every worker
speaks `protocol.GuardedHttpToolsProtocol` (deadlines and limits on request heads); access lines
go to stderr through the `coachgraph.server.access` logger, uvicorn's own messages from warnings up.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from coachgraph.errors import ConfigError
from coachgraph.server.guard import ACCESS_LOGGER

__all__ = ["PROTOCOL", "WORKER_HEALTHCHECK_S", "bind", "listen_url", "log_config", "serve"]

logger = logging.getLogger(__name__)

PROTOCOL = "coachgraph.server.protocol:GuardedHttpToolsProtocol"
"""Named, not imported: a worker process imports it only after it answers the supervisor's
health checks, so its start-up (torch, the models) is not mistaken for a hang."""
WORKER_HEALTHCHECK_S = 60
"""How long the supervisor waits for a busy worker to answer before it restarts it."""


def log_config(access_log: bool) -> dict[str, Any]:
    """The `logging.config` dict every server process applies (worker processes included)."""
    stream = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(message)s"},
                       "server": {"format": "%(asctime)s %(levelname)s %(message)s"}},
        "handlers": {"access": {**stream, "formatter": "plain"}, "server": {**stream, "formatter": "server"}},
        "loggers": {
            "uvicorn": {"handlers": ["server"], "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "level": "INFO" if access_log else "WARNING",
                            "propagate": False},
        },
    }


def listen_url(sock: socket.socket, host: str) -> str:
    """The URL clients reach a bound socket at (the real port when 0 was asked for).

    >>> s = socket.create_server(("127.0.0.1", 0)); url = listen_url(s, "127.0.0.1"); s.close()
    >>> url.startswith("http://127.0.0.1:") and not url.endswith(":0")
    True
    """
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def bind(host: str = "127.0.0.1", port: int = 8000, backlog: int = 2048) -> socket.socket:
    """A listening socket on `host`:`port` (0: any free port), to hand to `serve`.

    Binding before the application is built makes a taken port fail at once, and lets clients
    that connect while the application loads wait in the backlog instead of being refused.

    Raises:
        ConfigError: the address cannot be bound (in use, not an address of this machine).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host} port {port}: {exc.strerror or exc}; "
                          "pick another --port or --host") from None
    sock.listen(backlog)
    sock.set_inheritable(True)  # worker processes serve the same socket
    return sock


def serve(app: FastAPI | str, sock: socket.socket, *, workers: int = 1, access_log: bool = True,
          on_listening: Callable[[str], None] | None = None) -> None:
    """Serve `app` on the listening socket `sock` (from `bind`) until interrupted.

    Args:
        app: the application, or (for several `workers`) the import path of a factory that
            builds it in each worker, e.g. ``"coachgraph.server.app:app_from_env"``.
        sock: the socket from `bind`.
        workers: server processes sharing the socket.
        access_log: one line per request on stderr.
        on_listening: called with the URL clients reach the server at, just before serving.
    """
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, host=host, port=port, workers=workers, factory=isinstance(app, str),
                            http=PROTOCOL, log_config=log_config(access_log), access_log=False,
                            timeout_keep_alive=5, timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)
    url = listen_url(sock, host)
    logger.info("listening on %s", url)
    if on_listening is not None:
        on_listening(url)
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
