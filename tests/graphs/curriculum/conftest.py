"""Fixtures of the curriculum graph's tests: a tiny real checkpoint and a context builder over fakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from langchain_core.language_models import BaseChatModel

from coachgraph.curriculum import GateConfig, TaskSpace, make_teacher
from coachgraph.graphs.curriculum import AgentConfig, CurriculumContext
from coachgraph.skills import SkillLibrary
from coachgraph.tasks import PREREQUISITES, ArithmeticDomain
from tests.models.conftest import build_tiny_checkpoint

torch.set_num_threads(1)

MakeContext = Callable[..., CurriculumContext]


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-nodes"))


@pytest.fixture
def make_context(tmp_path: Path) -> MakeContext:
    """A `CurriculumContext` over the arithmetic domain with the given student and options."""

    def make(student: BaseChatModel, *, spec: str = "sec", trainer: Any = None, seed: int = 0,
             teacher_model: BaseChatModel | None = None, library: SkillLibrary | None = None,
             skills: tuple[str, ...] | None = None, **agents: Any) -> CurriculumContext:
        domain = ArithmeticDomain()
        curriculum = make_teacher(spec, TaskSpace.of(domain.skills), seed=0,
                                  configs={"prereq-gate": GateConfig(prerequisites=PREREQUISITES)})
        return CurriculumContext(student=student, trainer=trainer, domain=domain, curriculum=curriculum,
                                 run_dir=tmp_path, agents=AgentConfig(**agents), seed=seed, library=library,
                                 skills=skills or domain.skills, teacher_model=teacher_model)

    return make
