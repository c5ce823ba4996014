"""Fixtures of the role tests: a tiny real checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.models.conftest import build_tiny_checkpoint

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-agents"))
