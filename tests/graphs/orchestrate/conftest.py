"""Fixtures of the orchestrate graph's tests: the built-in pool with its chat-model members on a
fake arithmetic model (registered as a chat-model backend), and small run settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from coachgraph.agents.pool import BUILTIN_POOL
from coachgraph.graphs.orchestrate import OrchestrateConfig
from coachgraph.models.registry import CHAT_MODELS, register_chat_model
from tests.fakes import ArithmeticChatModel

FAKE_SPEC = "arithmetic-fake"


@pytest.fixture(scope="session")
def fake_model_backend() -> Iterator[str]:
    """A chat-model backend whose models work sums as a small model does (see `ArithmeticChatModel`)."""
    register_chat_model(FAKE_SPEC, FAKE_SPEC, "test model", takes_argument=False)(
        lambda argument, **options: ArithmeticChatModel())
    yield FAKE_SPEC
    CHAT_MODELS.pop(FAKE_SPEC, None)


@pytest.fixture(scope="session")
def fake_pool(tmp_path_factory: pytest.TempPathFactory, fake_model_backend: str) -> Path:
    """The built-in pool with the fake model in place of the embedded one and a faster remote queue."""
    data = yaml.safe_load(BUILTIN_POOL.read_text(encoding="utf-8"))
    for member in data["members"]:
        if member.get("model") == "smollm2":
            member["model"] = fake_model_backend
        if member.get("options", {}).get("timeout_s"):
            member["options"] = {**member["options"], "latency_s": 0.1, "timeout_s": 0.08}
    path = tmp_path_factory.mktemp("pool") / "pool.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def small_config(fake_pool: Path) -> OrchestrateConfig:
    return OrchestrateConfig(pool=str(fake_pool), rounds=2, tasks_per_round=4, retrain_every=4, recommender_steps=20,
                             concurrency=4)
