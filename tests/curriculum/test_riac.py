"""RIAC's regions: storage along the path, splits by ALP gap, forgetting, and its sampling modes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from coachgraph.curriculum import RIACTeacher, TaskSpace, make_teacher
from coachgraph.curriculum.riac import half_gap
from tests.curriculum.helpers import outcome

BOX = TaskSpace.of(box={"x": (0.0, 1.0), "y": (0.0, 1.0)})


def _riac(seed: int = 0, **options: object) -> RIACTeacher:
    teacher = make_teacher("riac", BOX, seed=seed, configs={"riac": options})
    assert isinstance(teacher, RIACTeacher)
    return teacher


def _feed(teacher: RIACTeacher, points: list[tuple[float, float, float]]) -> None:
    for x, y, reward in points:
        teacher.update([outcome("", [reward], difficulty={"x": x, "y": y})])


def test_region_alp_is_the_gap_between_halves() -> None:
    riac = _riac()
    _feed(riac, [(0.1, 0.1, r) for r in (0.0, 0.0, 0.1, 0.2, 0.3)])
    # older half [0, 0, 0.1] (odd: the older half holds the extra), newer [0.2, 0.3]
    assert riac.regions[0].alp == pytest.approx(0.25 - 1 / 30)
    assert half_gap([0.5, 0.5], 10) == 0.0  # two or fewer rewards: no progress yet


def test_a_full_leaf_splits_where_progress_differs() -> None:
    riac = _riac(max_region_size=20, min_region_size=2)
    rng = np.random.default_rng(0)
    points = []
    for i in range(21):
        x, y = rng.random(2)
        points.append((x, y, i / 20 if x < 0.5 else 0.3))  # progress only in x < 0.5
    _feed(riac, points)
    root, first, second = riac.regions
    assert root.children == (1, 2) and len(root.rewards) == 21  # every region on the path keeps it
    dim, threshold = root.split  # type: ignore[misc]
    assert first.high[dim] == threshold == second.low[dim]
    assert len(first.rewards) + len(second.rewards) == 21
    assert all(t[dim] <= threshold for t in first.tasks)
    # the best of 50 random splits cuts across x, where progress differs, and its children's
    # ALPs are the halves' gaps of their own rewards
    assert dim == 0 and threshold < 0.5
    assert first.alp == pytest.approx(half_gap(first.rewards, 20)) and first.alp > second.alp + 0.2


def test_no_valid_split_forgets_the_oldest_quarter() -> None:
    riac = _riac(max_region_size=20)
    _feed(riac, [(0.5, 0.5, i / 21) for i in range(21)])  # one point: no split has two sides
    assert len(riac.regions) == 1
    assert len(riac.regions[0].rewards) == 21 - 5
    assert riac.regions[0].rewards[0] == pytest.approx(5 / 21)


def test_sampling_modes_and_their_shares() -> None:
    riac = _riac(seed=1)
    _feed(riac, [(0.2, 0.2, 0.1), (0.3, 0.2, 0.4), (0.2, 0.3, 0.0)])
    reasons = Counter(s.reason.split(" ")[1] for s in riac.sample(4000))
    # 10% mutation, 20% uniform, 70% a region by ALP
    assert reasons["mutation"] / 4000 == pytest.approx(0.1, abs=0.02)
    assert reasons["uniform"] / 4000 == pytest.approx(0.2, abs=0.02)
    assert reasons["region"] / 4000 == pytest.approx(0.7, abs=0.02)


def test_mutation_starts_from_the_lowest_reward_task() -> None:
    riac = _riac(seed=2, mutation_ratio=1.0, random_task_ratio=0.0, mutation_scale=0.01)
    _feed(riac, [(0.2, 0.2, 0.5), (0.7, 0.6, 0.0), (0.4, 0.9, 0.8)])
    xs = np.array([[s.difficulty["x"], s.difficulty["y"]] for s in riac.sample(200)])
    assert np.allclose(xs.mean(axis=0), [0.7, 0.6], atol=0.01)


def test_leaves_only_and_first_draw_uniform() -> None:
    riac = _riac(max_region_size=20, min_region_size=2, leaves_only=True)
    assert riac.sample(1)[0].reason == "riac: uniform"
    _feed(riac, [(x, 0.5, x) for x in np.linspace(0.0, 1.0, 21)])
    assert riac.sampled_regions() == [1, 2]
