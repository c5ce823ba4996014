"""The ALP-GMM paper's toy grid: its rules, ALP-GMM beating random, ALP-bins mastering it."""

from __future__ import annotations

import pytest

from coachgraph.curriculum import TOY_SPACE, ToyGrid, make_teacher, run_toy


def test_cells_unlock_from_the_corner() -> None:
    grid = ToyGrid()
    assert grid.cell(1.0, 0.0) == (9, 0) and grid.cell(0.15, 0.25) == (1, 2)
    assert grid.practise(0.15, 0.05) == 0.0  # (1, 0) is locked
    for _ in range(74):
        grid.practise(0.05, 0.05)
    assert grid.practise(0.15, 0.05) == 0.0  # (0, 0) at 74 < 75
    assert grid.practise(0.05, 0.05) == 0.75  # (0, 0) reaches 75
    assert grid.practise(0.15, 0.05) == 0.01  # left neighbour unlocks (1, 0)
    assert grid.practise(0.15, 0.15) == 0.01  # lower-left diagonal unlocks (1, 1)
    assert grid.mastered() == 0  # 75 is not above 75
    grid.practise(0.05, 0.05)
    assert grid.mastered() == 1


def test_competence_is_capped() -> None:
    grid = ToyGrid()
    for _ in range(150):
        reward = grid.practise(0.0, 0.0)
    assert reward == 1.0 and grid.competence[0, 0] == 100


def test_readings_every_interval() -> None:
    readings = run_toy(make_teacher("random", TOY_SPACE, seed=0), 3000, read_every=1000)
    assert len(readings) == 3 and readings == sorted(readings)


@pytest.mark.slow
def test_alp_gmm_masters_more_cells_than_random() -> None:
    # measured at 10,000 episodes, seeds 0/1/2: ALP-GMM 14/12/14 cells, random 1/1/1;
    # the margin of 5 leaves room for numeric differences across platforms.
    for seed in (0, 1):
        alp = run_toy(make_teacher("alp-gmm", TOY_SPACE, seed=seed), 10_000)
        rnd = run_toy(make_teacher("random", TOY_SPACE, seed=seed), 10_000)
        assert alp[-1] >= rnd[-1] + 5, (alp, rnd)


@pytest.mark.slow
def test_alp_bins_masters_the_grid() -> None:
    # measured at 20,000 episodes, seeds 0-4: 100 cells each (covar-gmm, the best of the
    # paper's teachers, 61-68); 95 leaves room for numeric differences across platforms.
    for seed in (0, 1):
        readings = run_toy(make_teacher("alp-bins", TOY_SPACE, seed=seed), 20_000)
        assert readings[-1] >= 95, readings
