"""Curriculum runs on a tiny real checkpoint: outputs, tracing, and resume equal to an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from coachgraph.calltree.stores import open_store
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum import AgentConfig, RunConfig, RunResult, load_run, train_run
from tests.models.conftest import build_tiny_checkpoint

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-graphs"))


@pytest.fixture(scope="module")
def config(tiny: Path) -> RunConfig:
    return RunConfig(teacher="sec", steps=5, seed=3, student=f"hf:{tiny}", precision="fp32", eval_every=2,
                     skills=("add-1d", "sub-1d", "mul-1d"), lr=1e-2, reflect_every=2, save_every=3,
                     agents=AgentConfig(batch_size=2, samples=2, eval_size=2, max_tokens=8, crew=False))


@pytest.fixture(scope="module")
def uninterrupted(config: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return train_run(config, tmp_path_factory.mktemp("whole") / "run")


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(run_dir / "checkpoint" / "model.safetensors")


def _same(a: RunResult, b: RunResult) -> None:
    assert a.finished and b.finished and a.steps_done == b.steps_done
    assert [s.model_dump() for s in a.curriculum.steps] == [s.model_dump() for s in b.curriculum.steps]
    assert a.history == b.history and a.final_accuracy == b.final_accuracy
    wa, wb = _weights(a.run_dir), _weights(b.run_dir)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    skills_a = sorted(p.name for p in (a.run_dir / "skills").iterdir() if p.is_dir())
    assert skills_a == sorted(p.name for p in (b.run_dir / "skills").iterdir() if p.is_dir())


def test_a_run_writes_every_output_and_traces_its_nodes(uninterrupted: RunResult) -> None:
    run = uninterrupted
    assert run.finished and run.steps_done == 5 and len(run.curriculum.steps) == 10
    assert [h["step"] for h in run.history] == [0, 2, 4, 5]
    assert set(run.outputs) == {"curriculum", "curves", "mastery", "report", "checkpoint"}
    saved = json.loads((run.run_dir / "curriculum.json").read_text())
    assert [s["skill"] for s in saved["steps"]] == [s.skill for s in run.curriculum.steps]
    assert all(s["reason"].startswith("step ") for s in saved["steps"])
    assert (run.run_dir / "learning_curves.png").stat().st_size > 1000
    assert "| skill |" in (run.run_dir / "mastery.md").read_text()
    assert sorted(p.name for p in (run.run_dir / "reflections").iterdir()) == ["step-000002.json", "step-000004.json"]
    store = open_store(run.run_dir / "calltrees.sqlite")
    try:
        [trace] = store.trace_ids()
        tree = store.get_tree(trace)
        assert tree is not None
        names = {n.name for n in tree.nodes}
    finally:
        store.close()
    assert {"planner", "teacher", "student", "critic", "learn", "reflect", "evaluate"} <= names
    assert any(n.startswith("LocalChatModel") or n == "LocalChatModel" for n in names)


def test_stopping_and_resuming_gives_the_uninterrupted_result(config: RunConfig, uninterrupted: RunResult,
                                                             tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = train_run(config, run_dir, stop_after=1)  # before any saved student: replays from the start
    assert not first.finished and first.steps_done == 1 and first.outputs == {}
    second = train_run(None, run_dir, resume=True, stop_after=4)
    assert second.steps_done == 4
    (run_dir / "student" / "step-000004").rename(run_dir / "student" / "gone")  # force a replay from step 3
    final = train_run(None, run_dir, resume=True)
    _same(final, uninterrupted)


def test_resuming_a_finished_run_changes_nothing(uninterrupted: RunResult) -> None:
    again = train_run(None, uninterrupted.run_dir, resume=True)
    assert again.history == uninterrupted.history and again.steps_done == 5


def test_load_run_names_a_folder_without_a_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a run folder"):
        load_run(tmp_path)


def test_seed_changes_the_curriculum(config: RunConfig, uninterrupted: RunResult, tmp_path: Path) -> None:
    other = train_run(config.model_copy(update={"seed": 4, "steps": 2, "reflect_every": 0}), tmp_path / "other")
    assert [s.skill for s in other.curriculum.steps] != [s.skill for s in uninterrupted.curriculum.steps[:4]]


def _graph_steps(run_dir: Path) -> list[tuple[int, str]]:
    """(training step, node) of every graph step recorded in the run's calling tree, in order."""
    with open_store(run_dir / "calltrees.sqlite") as store:
        [trace] = store.trace_ids()
        tree = store.get_tree(trace)
    assert tree is not None
    roots = {n.id for n in tree.roots()}
    steps = [n.id.removeprefix(f"{trace}:step-").split(":") for n in tree.nodes
             if n.parent_id in roots and not n.name.startswith("__")]
    return sorted((int(step), name) for step, name in steps)


def test_a_stopped_run_keeps_its_steps_and_a_resume_adds_no_duplicates(
        config: RunConfig, uninterrupted: RunResult, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train_run(config, run_dir, stop_after=2)
    kept = _graph_steps(run_dir)
    assert [name for _, name in kept].count("learn") == 2 and (0, "evaluate") in kept
    (run_dir / "student" / "step-000002").rename(run_dir / "student" / "gone")  # a resume replays step 2
    train_run(None, run_dir, resume=True)
    resumed = _graph_steps(run_dir)
    assert resumed == _graph_steps(uninterrupted.run_dir)
    assert len(resumed) == len(set(resumed))
