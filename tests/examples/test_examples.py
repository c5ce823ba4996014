"""Every script in ``examples/`` runs to its end and does what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {
    "curriculum_in_your_training_loop.py": ["step 60: skill", "practised:"],
    "recommended_team_in_your_graph.py": ["recommended team:", "answer: 44 (expected 44)"],
    "recommender_as_a_tool.py": ["'Please refund the second charge on my card' -> billing",
                                 "'My parcel is late' -> shipping", "'The app shows error 500' -> tech-support"],
    "tutoring_session.py": ["tutor> Correct", "same message, plan and mastery after the restart: True",
                            "mastery per skill of the plan:"],
}


def test_every_example_is_checked() -> None:
    assert sorted(p.name for p in (REPO / "examples").glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_the_example_runs(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(REPO / "examples" / script), str(tmp_path / "out")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in EXPECTED[script]:
        assert line in done.stdout, done.stdout
