"""Shared fixtures: the corpora folder, fake models, temporary stores.

Checkpoints are read with LangGraph's strict msgpack (only JSON-like values and a short list of
safe types), set here before anything imports LangGraph, so a graph whose state holds anything
else fails its tests; subprocesses the tests start inherit it.
"""

from __future__ import annotations

import os

os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.fakes import HashEmbeddings, ScriptedChatModel  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def _corpora_path() -> Path:
    override = os.environ.get("COACHGRAPH_CORPORA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data" / "corpora"


REQUIRE_TOOLS_ENV = "COACHGRAPH_REQUIRE_TOOLS"
"""Set by `.ci/run`: a test whose outside program (Chromium, `langgraph dev`) is missing fails
there instead of skipping, so CI cannot pass without running it."""


def skip_without(tool: str, reason: str) -> None:
    """Skip (or, where `REQUIRE_TOOLS_ENV` is set, fail) a test that needs `tool`, saying why."""
    if os.environ.get(REQUIRE_TOOLS_ENV):
        pytest.fail(f"{tool} is required here ({REQUIRE_TOOLS_ENV} is set): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    """The real trace corpora; tests that need them skip with a reason where they are absent."""
    path = _corpora_path()
    if not path.is_dir():
        pytest.skip(f"trace corpora not found at {path} (set COACHGRAPH_CORPORA to their folder)")
    return path


@pytest.fixture
def fake_embeddings() -> HashEmbeddings:
    return HashEmbeddings(dims=32, seed=0)


@pytest.fixture
def scripted_chat() -> type[ScriptedChatModel]:
    return ScriptedChatModel
