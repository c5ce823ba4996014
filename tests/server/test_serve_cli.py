"""`coachgraph serve` itself, as a user starts it: key from a file or the environment, a startup
line with the address, access logs, one or two worker processes (real MiniLM embeddings)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from coachgraph.models import load_embeddings
from coachgraph.recommend.trainer import open_service
from tests.recommend._trees import make_store
from tests.server.conftest import FAST

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
STARTUP = re.compile(r"^serving (?P<store>\S+) at (?P<url>http://127\.0\.0\.1:\d+) \(\d+ agents and tools; "
                     r"(?P<guard>API key required|no API key); OpenAPI docs at \S+/docs\)$")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store whose MiniLM recommender is already cached beside it, so `serve` only loads it."""
    path = tmp_path_factory.mktemp("cli") / "store.sqlite"
    make_store(path).close()
    open_service(str(path), embeddings=load_embeddings("minilm"), config=FAST)
    return str(path)


@contextmanager
def _serve(args: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], re.Match[str]]]:
    process = subprocess.Popen([sys.executable, "-m", "coachgraph.cli.main", "serve", "--port", "0", *args],
                               cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **env}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        match = STARTUP.match(line)
        assert match, f"startup line {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        yield process, match
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_key_file_startup_line_and_access_log(store: str, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("file-key\n")
    key_file.chmod(0o600)
    with _serve(["--store", store, "--api-key-file", str(key_file)], {}) as (process, started):
        url = started["url"]
        assert started["guard"] == "API key required" and started["store"] == store
        assert httpx.post(f"{url}/v1/recommend/next", json={"task": "weather"}).status_code == 401
        ok = httpx.post(f"{url}/v1/recommend/next", json={"task": "weather in Oslo"},
                        headers={"Authorization": "Bearer file-key"})
        assert ok.status_code == 200 and ok.json()["recommendations"]
        time.sleep(0.5)
        process.terminate()
        log = process.communicate(timeout=60)[1]
        assert '"POST /v1/recommend/next" 401' in log and '"POST /v1/recommend/next" 200' in log
        assert "file-key" not in log


def test_two_workers_with_the_key_from_the_environment(store: str) -> None:
    with _serve(["--store", store, "--workers", "2"], {"COACHGRAPH_API_KEY": "env-key"}) as (_process, started):
        url = started["url"]
        auth = {"Authorization": "Bearer env-key"}
        answers = [httpx.post(f"{url}/v1/recommend/next", json={"task": f"translate note {i}"}, headers=auth,
                              timeout=120) for i in range(20)]
        assert [a.status_code for a in answers] == [200] * 20
        assert httpx.get(f"{url}/openapi.json").status_code == 401


def test_a_key_on_the_command_line_is_warned_about(store: str) -> None:
    with _serve(["--store", store, "--api-key", "visible"], {}) as (process, _started):
        process.terminate()
        assert "--api-key shows the key to every user" in process.communicate(timeout=60)[1]
