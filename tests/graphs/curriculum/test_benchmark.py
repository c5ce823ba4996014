"""The curriculum benchmark: its summary (seed means, spread, steps to reach random's final accuracy)
and the untrained accuracy measured once for all runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from coachgraph.calltree.stores import open_store
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum import (
    AgentConfig,
    BenchConfig,
    RunConfig,
    RunResult,
    bench_table,
    load_run,
    run_curriculum_bench,
    summarize,
    train_run,
)
from coachgraph.types import Curriculum
from tests.models.conftest import build_tiny_checkpoint


def _correct(accuracy: float, problems: int = 5) -> str:
    """Outcomes of `problems` held-out problems with the first ones right."""
    right = round(accuracy * problems)
    return "1" * right + "0" * (problems - right)


def _run(curve: list[tuple[int, float, float]]) -> RunResult:
    history = [{"step": s, "accuracy": {"a": a, "b": b}, "correct": {"a": _correct(a), "b": _correct(b)}}
               for s, a, b in curve]
    return RunResult(run_dir=Path("r"), run_id="r", steps_done=curve[-1][0], finished=True,
                     curriculum=Curriculum(teacher="t", seed=0, steps=[]), history=history,
                     final_accuracy=history[-1]["accuracy"])


def _hand_results() -> dict[str, list[RunResult]]:
    return {
        "random": [_run([(0, 0.0, 0.0), (4, 0.2, 0.0), (8, 0.4, 0.2)]),
                   _run([(0, 0.0, 0.0), (4, 0.0, 0.2), (8, 0.2, 0.2)])],
        "sec": [_run([(0, 0.0, 0.0), (4, 0.4, 0.2), (8, 0.6, 0.4)]),
                _run([(0, 0.0, 0.0), (4, 0.2, 0.2), (8, 0.4, 0.4)])],
    }


def test_summary_by_hand() -> None:
    summary = summarize(_hand_results(), steps=8)
    random, sec = summary["teachers"]["random"], summary["teachers"]["sec"]
    assert summary["random_final"] == pytest.approx(0.25)  # mean of 0.3 and 0.2
    assert random["final_spread"] == pytest.approx(0.05) and random["steps_to_random_final"] == 8
    assert sec["final_accuracy"] == pytest.approx(0.45)
    assert sec["curve"][1]["mean"] == pytest.approx(0.25)  # step 4: mean of 0.3 and 0.2
    assert sec["steps_to_random_final"] == 4 and sec["fraction_of_random_steps"] == 0.5
    assert sec["final_per_skill"] == pytest.approx({"a": 0.5, "b": 0.4})
    assert summary["best"] == "sec"
    assert random["paired_vs_random"] is None
    # seed 0: a 11100 - 11000 and b 11000 - 10000, one problem each better; seed 1 likewise: 2 of 10
    paired = sec["paired_vs_random"]
    assert paired["mean"] == pytest.approx(0.2) and paired["seeds"] == 2 and paired["problems"] == 10
    assert 0.0 <= paired["low"] < 0.2 < paired["high"] < 1.0  # no problem is worse, so never below 0
    table = bench_table(summary)
    assert f"| sec | 0.450 | ±0.050 | +0.200 [{paired['low']:+.3f}, {paired['high']:+.3f}] | 4 | 50% |" in table


def test_no_teacher_reaches_the_final_accuracy_of_a_random_that_did_not_improve() -> None:
    results = {"random": [_run([(0, 0.4, 0.4), (4, 0.2, 0.2)])], "sec": [_run([(0, 0.4, 0.4), (4, 0.6, 0.6)])]}
    summary = summarize(results, steps=4)
    assert summary["initial"] == pytest.approx(0.4) and summary["random_improved"] is False
    assert all(t["steps_to_random_final"] is None for t in summary["teachers"].values())
    assert "| random did not improve |" in bench_table(summary)


def test_the_summary_scores_only_the_named_skills() -> None:
    summary = summarize(_hand_results(), steps=8, scored=("a",))
    sec = summary["teachers"]["sec"]
    assert summary["random_final"] == pytest.approx(0.3)  # a: mean of 0.4 and 0.2
    assert sec["final_accuracy"] == pytest.approx(0.5)
    assert sec["steps_to_random_final"] == 4  # a at step 4: mean of 0.4 and 0.2
    assert sec["paired_vs_random"]["mean"] == pytest.approx(0.2) and sec["paired_vs_random"]["problems"] == 5
    assert sec["final_per_skill"] == pytest.approx({"a": 0.5, "b": 0.4})


def test_a_teacher_that_never_reaches_random_says_so() -> None:
    results = {"random": [_run([(0, 0.0, 0.0), (4, 0.6, 0.6)])], "irt": [_run([(0, 0.0, 0.0), (4, 0.2, 0.2)])]}
    summary = summarize(results, steps=4)
    irt = summary["teachers"]["irt"]
    assert irt["steps_to_random_final"] is None
    low, high = irt["paired_vs_random"]["low"], irt["paired_vs_random"]["high"]
    assert -1.0 <= low < -0.4 < high <= 0.0  # no problem is better, so never above 0
    assert f"| irt | 0.200 | ±0.000 | -0.400 [{low:+.3f}, {high:+.3f}] | not reached |  |" in bench_table(summary)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-bench"))


def _evaluate_model_calls(run_dir: Path) -> list[int]:
    """Per evaluate node of the run, in order: how many model calls it made."""
    store = open_store(run_dir / "calltrees.sqlite")
    try:
        counts = []
        for tree in store.iter_trees():
            for node in tree.nodes:
                if node.name == "evaluate" and node.kind == "agent":
                    counts.append(sum(1 for n in tree.nodes if n.parent_id == node.id and n.kind == "llm"))
        return counts
    finally:
        store.close()


def test_the_untrained_accuracy_is_measured_once_and_shared(tiny: Path, tmp_path: Path) -> None:
    base = RunConfig(steps=2, student=f"hf:{tiny}", eval_every=2, skills=("add-1d", "sub-1d"), reflect_every=0,
                     export=False, agents=AgentConfig(batch_size=2, samples=2, eval_size=2, max_tokens=6, skills_k=0,
                                                      crew=False))
    summary = run_curriculum_bench(BenchConfig(teachers=("random", "sec"), seeds=1, base=base), tmp_path)
    first, second = (load_run(tmp_path / d)[0] for d in ("random-s0", "sec-s0"))
    assert first.agents.initial_accuracy is None
    assert second.agents.initial_accuracy == summary["teachers"]["random"]["curve"][0]["per_skill"]
    assert summary["teachers"]["sec"]["curve"][0] == summary["teachers"]["random"]["curve"][0]
    measured, reused = _evaluate_model_calls(tmp_path / "random-s0"), _evaluate_model_calls(tmp_path / "sec-s0")
    assert len(measured) == len(reused) == 2 and min(measured) > 0
    assert reused[0] == 0 and reused[1] > 0


def test_a_benchmark_scores_the_evaluated_skills_problem_by_problem(tiny: Path, tmp_path: Path) -> None:
    base = RunConfig(steps=1, student=f"hf:{tiny}", eval_every=1, skills=("add-1d", "sub-1d"), reflect_every=0,
                     export=False, agents=AgentConfig(batch_size=2, samples=2, eval_size=3, max_tokens=6, skills_k=0,
                                                      crew=False, eval_skills=("sub-1d", "add-2d")))
    summary = run_curriculum_bench(BenchConfig(teachers=("random", "sec"), seeds=2, base=base, scored=("add-2d",)),
                                   tmp_path)
    for teacher in ("random", "sec"):
        for seed in range(2):
            final = train_run(None, tmp_path / f"{teacher}-s{seed}", resume=True).history[-1]
            assert sorted(final["accuracy"]) == ["add-2d", "sub-1d"]
            assert final["accuracy"]["add-2d"] == final["correct"]["add-2d"].count("1") / 3
    assert summary["teachers"]["sec"]["paired_vs_random"]["problems"] == 3
    assert summary["teachers"]["sec"]["paired_vs_random"]["seeds"] == 2
    report = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert report.count("| sec |") == 1 and "2 seeds x 1 steps, scored on add-2d;" in report


def test_a_scored_skill_that_is_not_evaluated_is_rejected_before_training(tiny: Path, tmp_path: Path) -> None:
    base = RunConfig(steps=1, student=f"hf:{tiny}", skills=("add-1d",), reflect_every=0, export=False)
    with pytest.raises(InputError, match="scored skill 'add-2d'"):
        run_curriculum_bench(BenchConfig(teachers=("random",), seeds=1, base=base, scored=("add-2d",)), tmp_path)
    assert not any(tmp_path.iterdir())


def test_an_initial_accuracy_for_other_skills_is_rejected(tiny: Path, tmp_path: Path) -> None:
    config = RunConfig(steps=1, student=f"hf:{tiny}", skills=("add-1d",), reflect_every=0, export=False,
                       agents=AgentConfig(batch_size=2, samples=2, eval_size=2, max_tokens=4, skills_k=0, crew=False,
                                          initial_accuracy={"sub-1d": 0.5}))
    with pytest.raises(InputError, match="initial_accuracy"):
        train_run(config, tmp_path / "run")


def test_an_unknown_teacher_option_is_rejected_before_training(tiny: Path, tmp_path: Path) -> None:
    config = RunConfig(teacher="alp-gmm", teacher_options={"alp-gmm": {"fit_every": 3}}, steps=1,
                       student=f"hf:{tiny}", skills=("add-1d",), reflect_every=0, export=False,
                       agents=AgentConfig(batch_size=2, samples=2, skills_k=0, crew=False))
    with pytest.raises(InputError, match="fit_every"):
        train_run(config, tmp_path / "run")


def _checkpoints(run_dir: Path) -> int:
    with closing(sqlite3.connect(run_dir / "checkpoints.sqlite")) as db:
        return int(db.execute("select count(*) from checkpoints").fetchone()[0])


def test_finished_runs_drop_their_student_states_and_reread_without_training(tiny: Path, tmp_path: Path) -> None:
    base = RunConfig(steps=2, student=f"hf:{tiny}", eval_every=2, save_every=1, skills=("add-1d", "sub-1d"),
                     reflect_every=0, export=False,
                     agents=AgentConfig(batch_size=2, samples=2, eval_size=2, max_tokens=6, skills_k=0, crew=False))
    bench = BenchConfig(teachers=("random",), seeds=1, base=base)
    first = run_curriculum_bench(bench, tmp_path)
    run_dir = tmp_path / "random-s0"
    assert (run_dir / "report.md").is_file() and not (run_dir / "student").exists()
    written = _checkpoints(run_dir)
    again = run_curriculum_bench(bench, tmp_path)
    assert _checkpoints(run_dir) == written  # nothing replayed
    assert again["teachers"] == first["teachers"]
