"""Fixtures of the agent tests: a tiny real checkpoint and a context builder over fakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from langchain_core.language_models import BaseChatModel

from coachgraph.agents import AgentConfig, AgentContext
from coachgraph.curriculum import GateConfig, TaskSpace, make_teacher
from coachgraph.tasks import PREREQUISITES, ArithmeticDomain
from tests.models.conftest import build_tiny_checkpoint

torch.set_num_threads(1)

MakeContext = Callable[..., AgentContext]


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-agents"))


@pytest.fixture
def make_context(tmp_path: Path) -> MakeContext:
    """An `AgentContext` over the arithmetic domain with the given student and options."""

    def make(student: BaseChatModel, *, spec: str = "sec", trainer: Any = None,
             teacher_model: BaseChatModel | None = None, **config: Any) -> AgentContext:
        domain = ArithmeticDomain()
        teacher = make_teacher(spec, TaskSpace.of(domain.skills), seed=0,
                               configs={"prereq-gate": GateConfig(prerequisites=PREREQUISITES)})
        return AgentContext(student=student, trainer=trainer, domain=domain, teacher=teacher,
                            run_dir=tmp_path, config=AgentConfig(**config), teacher_model=teacher_model)

    return make
