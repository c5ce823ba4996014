"""Saved student states of a curriculum run: ``run_dir/student/step-<n>/``.

Every `save_every` steps (and after the last one, and before each reflection) the trainer state
is saved by an atomic folder rename; a full model's state is large, so saving it every step would
cost more than the step. A resumed run loads the newest saved state and replays the steps after
it from the graph's checkpoint history; training and sampling are seeded, so the replay repeats
them exactly. When LangGraph re-runs the learn node after a kill, a folder that already exists
means the step was trained: its state is loaded instead.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coachgraph.models.training import StudentTrainer

__all__ = ["drop_states", "prune_states", "saved_steps", "train_or_load", "trainer_folder"]

logger = logging.getLogger(__name__)


def trainer_folder(run_dir: Path, step: int) -> Path:
    """Where the trainer state after `step` training steps is kept."""
    return Path(run_dir) / "student" / f"step-{step:06d}"


def saved_steps(run_dir: Path) -> list[int]:
    """Steps whose trainer state is saved in `run_dir`, oldest first."""
    return sorted(int(p.name.removeprefix("step-")) for p in (Path(run_dir) / "student").glob("step-*")
                  if not p.name.endswith(".tmp"))


def train_or_load(trainer: StudentTrainer, train: Callable[[], dict[str, Any]], done: Path,
                  save: bool) -> dict[str, Any]:
    """Train once and save atomically when asked; or load the saved state of a step already trained."""
    if done.exists():
        logger.info("step already trained: loading %s", done)
        trainer.load(done)
        return json.loads((done / "metrics.json").read_text(encoding="utf-8"))
    metrics = train()
    if not save:
        return metrics
    staging = done.with_name(done.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    trainer.save(staging)
    (staging / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    staging.rename(done)
    return metrics


def drop_states(run_dir: Path) -> None:
    """Remove every saved state of a finished run: it rereads without them, and each is large."""
    shutil.rmtree(Path(run_dir) / "student", ignore_errors=True)


def prune_states(done: Path) -> None:
    """Keep the newest state and the one before it (a resume may need either)."""
    for folder in sorted(done.parent.glob("step-*"))[:-2]:
        shutil.rmtree(folder)
