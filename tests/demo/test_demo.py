"""The demo end to end on a tiny real student and the fake-model pool: both runs, the queries, the
report and its plots, each number taken from the run; and the demo continues a stopped folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from coachgraph.demo import DemoConfig, DemoResult, run_demo
from coachgraph.graphs.curriculum import AgentConfig, RunConfig
from coachgraph.graphs.orchestrate import OrchestrateConfig
from tests.models.conftest import build_tiny_checkpoint

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-demo"))


@pytest.fixture(scope="module")
def config(tiny: Path, fake_pool: Path) -> DemoConfig:
    curriculum = RunConfig(teacher="sec", steps=2, student=f"hf:{tiny}", eval_every=1, reflect_every=1, save_every=1,
                           export=False, skills=("add-1d", "sub-1d"), lr=1e-2,
                           agents=AgentConfig(batch_size=2, samples=2, eval_size=2, max_tokens=8, crew=False))
    orchestrate = OrchestrateConfig(pool=str(fake_pool), rounds=3, tasks_per_round=6, retrain_every=6,
                                    recommender_steps=20, concurrency=4)
    return DemoConfig(curriculum=curriculum, orchestrate=orchestrate, queries=("What is 67 + 58?",), top=3)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, config: DemoConfig) -> tuple[DemoResult, list[str]]:
    stages: list[str] = []
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", config, stage=stages.append), stages


def test_the_demo_writes_a_report_whose_numbers_come_from_its_runs(demo: tuple[DemoResult, list[str]]) -> None:
    result, stages = demo
    assert stages == ["curriculum", "orchestrate", "queries", "report"]
    report = result.outputs["report"].read_text(encoding="utf-8")
    for png in ("learning_curves.png", "curriculum.png", "success_per_round.png", "calltree.png", "team.png"):
        assert (result.out / png).stat().st_size > 5000 and f"({png})" in report
    solved = [f"{r.solved} / {r.tasks}" for r in result.rounds]
    assert all(s in report for s in solved) and len(result.rounds) == 3
    assert len(result.reflections) == 2 and result.skills_after >= result.skills_before > 0
    answer = result.queries[0]
    assert len(answer.next) == 3 and set(answer.next[0].contributions) >= {"relevance", "reliability"}
    assert f"{answer.next[0].probability:.3f}" in report and answer.team.nodes
    before = result.curriculum.history[0]["accuracy"]
    assert all(f"| {skill} | {value:.2f} |" in report for skill, value in before.items())
    assert re.search(r"\d+\.\d minutes on \d+ cores", report)
    chosen = result.curriculum.curriculum.steps
    assert all(f"{skill} {sum(s.skill == skill for s in chosen)}" in report for skill in {s.skill for s in chosen})


def test_the_demo_continues_a_folder_it_left(demo: tuple[DemoResult, list[str]], config: DemoConfig) -> None:
    first = demo[0]
    again = run_demo(first.out, config)
    assert again.curriculum.run_id == first.curriculum.run_id and again.orchestrate.run_id == first.orchestrate.run_id
    assert again.orchestrate.results == first.orchestrate.results


def test_the_command_prints_a_summary(tmp_path: Path, config: DemoConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    from coachgraph.cli import demo as demo_cli
    from coachgraph.cli.main import app

    monkeypatch.setattr(demo_cli, "_DEFAULT", config)
    out = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"), "--steps", "1", "--rounds", "1",
                                   "--tasks-per-round", "2", "--seed", "3"])
    assert (tmp_path / "d" / "report.md").is_file()
    assert out.exit_code == 0, out.output
    assert "held-out accuracy" in out.output and "solved per round" in out.output and "report:" in out.output
    assert '"seed": 3' in (tmp_path / "d" / "curriculum" / "run.json").read_text(encoding="utf-8")
