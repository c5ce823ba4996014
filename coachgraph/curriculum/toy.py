"""The continuous toy environment of the ALP-GMM paper, for checking teachers without deep RL.

The task space [0, 1]^2 is cut into a 10x10 grid. A cell's competence grows by one per practice
only once it is unlocked, and cells unlock from (0, 0) outwards, so a teacher must find and stay
on the moving frontier of learnable cells; uniform sampling wastes most episodes on locked or
finished cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coachgraph.curriculum.base import TaskSpace, Teacher
from coachgraph.types import CurriculumStep

__all__ = ["TOY_SPACE", "ToyConfig", "ToyGrid", "run_toy"]

TOY_SPACE = TaskSpace.of(box={"x": (0.0, 1.0), "y": (0.0, 1.0)})
"""The toy's task space: two knobs in [0, 1]."""


@dataclass(frozen=True, slots=True)
class ToyConfig:
    """Shape of the toy grid."""

    cells: int = 10
    """Cells per side."""
    max_competence: int = 100
    """Competence cap of a cell."""
    unlock_at: int = 75
    """Competence of a left, lower or lower-left neighbour that unlocks a cell."""
    mastered_above: int = 75
    """A cell is mastered when its competence is strictly above this."""


class ToyGrid:
    """Competence counters of the grid; `practise` is one episode.

    Example:
        >>> grid = ToyGrid()
        >>> grid.practise(0.05, 0.05), grid.practise(0.55, 0.55)
        (0.01, 0.0)
    """

    def __init__(self, config: ToyConfig | None = None) -> None:
        self.config = config or ToyConfig()
        self.competence = np.zeros((self.config.cells, self.config.cells), dtype=int)

    def cell(self, x: float, y: float) -> tuple[int, int]:
        """Grid cell of a point; bins are [k/n, (k+1)/n) with the last one closed."""
        n = self.config.cells
        return min(int(x * n), n - 1), min(int(y * n), n - 1)

    def unlocked(self, i: int, j: int) -> bool:
        """Cell (0, 0) always; any other once a left, lower or lower-left neighbour is ready."""
        if i == 0 and j == 0:
            return True
        near = [(i - 1, j), (i, j - 1), (i - 1, j - 1)]
        return any(a >= 0 and b >= 0 and self.competence[a, b] >= self.config.unlock_at
                   for a, b in near)

    def practise(self, x: float, y: float) -> float:
        """One episode on task (x, y): the cell's competence after it, over the cap (0 if locked)."""
        i, j = self.cell(x, y)
        if not self.unlocked(i, j):
            return 0.0
        cap = self.config.max_competence
        self.competence[i, j] = min(self.competence[i, j] + 1, cap)
        return float(self.competence[i, j]) / cap

    def mastered(self) -> int:
        """Number of mastered cells."""
        return int((self.competence > self.config.mastered_above).sum())


def run_toy(teacher: Teacher, episodes: int, read_every: int = 1000,
            config: ToyConfig | None = None) -> list[int]:
    """Let `teacher` drive one grid for `episodes` episodes; mastered cells every `read_every`."""
    grid = ToyGrid(config)
    readings = []
    for episode in range(1, episodes + 1):
        step: CurriculumStep = teacher.sample(1)[0]
        reward = grid.practise(step.difficulty["x"], step.difficulty["y"])
        teacher.update_on_episode(step, reward)
        if episode % read_every == 0:
            readings.append(grid.mastered())
    return readings
