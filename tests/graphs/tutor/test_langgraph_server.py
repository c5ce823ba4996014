"""The tutor on LangGraph's own server: `langgraph dev` (in-memory runtime) serves the
repository's ``langgraph.json``; the `langgraph-sdk` client creates a thread, runs it to the
interrupt, resumes it with an answer, and reads the state and the learner's mastery (from the
state and from the server's store).

The server is started offline: no browser, no reload, no LangSmith key or tracing, no version
check or analytics, and every proxy variable pointing at a local trap, so any attempt to reach
the network would be counted (the test asserts there is none).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import skip_without

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


def _langgraph_cli() -> str:
    beside = Path(sys.executable).parent / "langgraph"
    found = str(beside) if beside.exists() else shutil.which("langgraph")
    if found is None:
        skip_without("langgraph", "the langgraph CLI is not installed (pip install 'coachgraph[langgraph]')")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Trap:
    """A local socket standing in for every proxy: counts connections, answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port, self.connections = self.sock.getsockname()[1], 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def _offline_env(trap: _Trap) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY")}
    proxy = f"http://127.0.0.1:{trap.port}"
    env.update({"LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1",
                "LANGGRAPH_NO_VERSION_CHECK": "true", "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "ALL_PROXY": proxy,
                "http_proxy": proxy, "https_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost", "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])})
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, _Trap]]:
    cli, port, trap = _langgraph_cli(), _free_port(), _Trap()
    folder = tmp_path_factory.mktemp("langgraph-dev")
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen([cli, "dev", "--config", str(REPO / "langgraph.json"), "--port", str(port), "--host",
                             "127.0.0.1", "--no-browser", "--no-reload"], cwd=REPO, env=_offline_env(trap),
                            stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"langgraph dev exited: {(folder / 'server.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{url}/ok", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("langgraph dev did not answer within 300 s")
    yield url, trap
    proc.terminate()
    proc.wait(timeout=60)
    log.close()


def test_sdk_runs_the_tutor_to_the_interrupt_and_resumes_it(server: tuple[str, _Trap]) -> None:
    from langgraph_sdk import get_sync_client

    url, trap = server
    client = get_sync_client(url=url)
    assert {a["graph_id"] for a in client.assistants.search()} >= {"tutor", "curriculum"}
    learner = f"sdk-{uuid.uuid4().hex[:8]}"  # the dev server keeps its store in .langgraph_api between runs
    thread = client.threads.create()
    context = {"domain": "arithmetic", "seed": 3}
    client.runs.wait(thread["thread_id"], "tutor", input={"learner": learner, "targets": ["add-2d"]}, context=context)
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["listen"]
    waiting = state["tasks"][0]["interrupts"][0]["value"]
    values = state["values"]
    assert waiting["problem"] == values["problem"]["question"] and waiting["skill"] == "add-1d"
    prior = values["learner_model"]["skills"]["add-1d"]["mastery"]

    chunks = list(client.runs.stream(thread["thread_id"], "tutor", command={"resume": values["problem"]["answer"]},
                                     context=context, stream_mode=["custom", "updates"]))
    words = "".join(c.data["text"] for c in chunks if c.event == "custom")
    assert words.startswith("Correct") and any(c.event == "updates" and "diagnose" in c.data for c in chunks)

    state = client.threads.get_state(thread["thread_id"])
    values = state["values"]
    mastery = values["learner_model"]["skills"]["add-1d"]["mastery"]
    assert state["next"] == ["listen"] and values["turn"] == 1 and mastery > prior
    assert values["answers"][0]["correct"] and values["transcript"][-1]["text"] == words
    stored = client.store.get_item(["learners", learner], "model:arithmetic")
    assert stored["value"]["skills"]["add-1d"]["mastery"] == pytest.approx(mastery)
    assert trap.connections == 0
    client.threads.delete(thread["thread_id"])
