"""Graph nodes and roles type-check, and a misspelled state key is a type error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
MYPY = [sys.executable, "-m", "mypy", "--no-incremental"]  # settings in pyproject.toml


def _mypy(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MYPY, *paths], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_graphs_and_agents_type_check() -> None:
    result = _mypy("coachgraph/graphs", "coachgraph/agents")
    assert result.returncode == 0, result.stdout


def test_a_misspelled_state_key_is_a_type_error(tmp_path: Path) -> None:
    node = tmp_path / "typo_node.py"
    node.write_text(
        "from coachgraph.graphs.curriculum.state import CurriculumState\n\n"
        "def node(state: CurriculumState) -> CurriculumState:\n"
        "    return {'stpe': state['step'] + 1}\n\n"
        "def reads(state: CurriculumState) -> int:\n"
        "    return state['max_step']\n")
    result = _mypy(str(node))
    assert result.returncode == 1
    assert '"stpe"' in result.stdout and '"max_step"' in result.stdout
