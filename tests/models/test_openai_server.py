"""The `openai:` backend against a real OpenAI-compatible server: llama-cpp-python's server
serving the embedded SmolLM2 GGUF file on localhost."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from coachgraph.models import load_chat_model
from coachgraph.models.weights import PACKAGED_WEIGHTS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python (dev extra) is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    port = _free_port()
    gguf = PACKAGED_WEIGHTS["smollm2"].path()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = log_path.open("w")  # a file, not a pipe: the server logs a lot and must never block
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--logits_all", "true"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not answer within 180 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_invoke_with_logprobs(server_url):
    chat = load_chat_model(f"openai:{server_url}#smollm2", max_tokens=16, temperature=0.0)
    message = chat.invoke("What is 2+3?")
    assert message.content.strip()
    entries = message.response_metadata["logprobs"]["content"]
    assert entries and all(e["logprob"] <= 0 for e in entries)


def test_stream_and_batch(server_url):
    chat = load_chat_model(f"openai:{server_url}#smollm2", max_tokens=12, temperature=0.0)
    streamed = "".join(chunk.text for chunk in chat.stream("Say hello."))
    assert streamed.strip()
    answers = chat.batch(["What is 2+3?", "Name a fruit."])
    assert len(answers) == 2 and all(a.content.strip() for a in answers)


def test_greedy_answer_agrees_with_the_local_backend(server_url):
    remote = load_chat_model(f"openai:{server_url}#smollm2", max_tokens=8, temperature=0.0)
    local = load_chat_model("smollm2", precision="fp32", max_tokens=8)
    # Same weights, same chat template: the first greedy tokens agree.
    assert remote.invoke("What is 2+3?").content.split()[:3] == local.invoke("What is 2+3?").content.split()[:3]
