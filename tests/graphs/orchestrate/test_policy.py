"""Team choice: Thompson sampling on member reliability tries members with little evidence, keeps
to those that solve tasks, and lets the recommender's belief decide where evidence is thin."""

from __future__ import annotations

import random
from collections import Counter

from coachgraph.agents.pool import load_pool
from coachgraph.graphs.orchestrate.policy import POLICIES, MemberOutcomes, PolicyInputs

POOL = load_pool()
KIND = "arithmetic.word-2step"


def _choices(inputs: PolicyInputs, n: int = 200, kind: str = KIND) -> Counter[str]:
    return Counter(m for i in range(n) for m in POLICIES["learned"](inputs, "q", kind, random.Random(i)).team)


def test_without_evidence_every_member_gets_tried() -> None:
    counts = _choices(PolicyInputs(pool=POOL, team_size=3))
    assert set(counts) == set(POOL.names)


def test_evidence_of_success_and_blame_steers_the_choice() -> None:
    outcomes = MemberOutcomes()
    for _ in range(6):
        outcomes.add(["word-parser", "calculator", "checker"], KIND, True, None)
        outcomes.add(["answer-cache", "solver", "quick-calculator"], KIND, False, "answer-cache")
    counts = _choices(PolicyInputs(pool=POOL, team_size=3, outcomes=outcomes))
    assert counts["word-parser"] > 150 and counts["calculator"] > 150 and counts["answer-cache"] < 10
    assert counts["skill-router"] > 0


def test_a_kind_never_met_starts_from_the_members_overall_record() -> None:
    outcomes = MemberOutcomes()
    for _ in range(8):
        outcomes.add(["calculator"], "arithmetic.add-2d-carry", True, None)
        outcomes.add(["column-solver"], "arithmetic.add-2d-carry", False, "column-solver")
    counts = _choices(PolicyInputs(pool=POOL, team_size=1, outcomes=outcomes), kind="arithmetic.mul-2x1")
    assert counts["calculator"] > 3 * counts["column-solver"]


def test_the_recommenders_belief_decides_where_there_is_no_evidence() -> None:
    def scores(question: str, names: list[str]) -> dict[str, float]:
        return {n: (0.9 if n == "checker" else 0.1 / (len(names) - 1)) for n in names}

    with_model = _choices(PolicyInputs(pool=POOL, team_size=1, scores=scores, prior_strength=8.0))
    assert with_model.most_common(1)[0][0] == "checker"


def test_calls_follow_the_order_members_held_in_solved_tasks() -> None:
    outcomes = MemberOutcomes()
    for _ in range(20):
        outcomes.add(["word-parser", "calculator", "checker"], KIND, True, None)
    choice = POLICIES["learned"](PolicyInputs(pool=POOL, team_size=3, outcomes=outcomes), "q", KIND, random.Random(0))
    assert choice.team == ["word-parser", "calculator", "checker"]
    assert set(choice.why["checker"]) == {"belief", "overall", "wins", "losses", "blamed", "draw"}


def test_random_and_fixed_teams_keep_the_team_size_and_serve_the_kind() -> None:
    inputs = PolicyInputs(pool=POOL, team_size=3, fixed=("solver", "calculator", "checker"))
    assert len(set(POLICIES["random"](inputs, "q", KIND, random.Random(1)).team)) == 3
    assert POLICIES["fixed"](inputs, "q", KIND, random.Random(1)).team == ["solver", "calculator", "checker"]
    assert POLICIES["fixed"](inputs, "q", "gsm8k.word", random.Random(1)).team == []
