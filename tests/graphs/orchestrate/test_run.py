"""An orchestrate run end to end on the fake-model pool: traces with outcome, blame and decisions;
retraining and reloading every N tasks; resuming; refusing other settings on resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coachgraph.calltree.stores import open_store
from coachgraph.errors import ConfigError, InputError
from coachgraph.graphs.orchestrate import OrchestrateConfig, orchestrate_run
from coachgraph.graphs.orchestrate.config import run_id_of
from coachgraph.graphs.orchestrate.traces import SOURCE


def test_a_run_traces_every_team_and_retrains_as_it_goes(tmp_path: Path, small_config: OrchestrateConfig) -> None:
    seen: list[str] = []
    result = orchestrate_run(small_config, tmp_path / "run", progress=lambda node, values: seen.append(node))
    assert result.finished and len(result.results) == 8 and [r.round for r in result.rounds] == [0, 1]
    assert seen.count("run_team") == 8 and seen.count("retrain") == 2
    assert [r["version"] for r in result.retrains] == [1, 2] and [r["traces"] for r in result.retrains] == [4, 8]
    assert {r["model_version"] for r in result.results if r["round"] == 1} == {1}
    with open_store(result.store) as store:
        ids = store.trace_ids(source=SOURCE)
        trees = list(store.iter_trees(ids))
    assert sorted(ids) == sorted(r["trace_id"] for r in result.results)
    for tree, record in zip(trees, sorted(result.results, key=lambda r: r["trace_id"]), strict=True):
        assert tree.success == record["success"] and tree.pool_ref == "arithmetic"
        assert [d.chosen for d in tree.decisions] == record["called"]
        assert {n.kind for n in tree.nodes} >= {"chain", "agent", "handoff"}
        assert tree.success or tree.labels["mistake_agent"] == record["blamed"]
    for name in ("report", "success", "team", "calltree", "results", "rounds"):
        assert result.outputs[name].is_file()
    assert "Success per round" in result.outputs["report"].read_text()


def test_a_stopped_run_resumes_to_the_same_tasks_and_teams(tmp_path: Path, small_config: OrchestrateConfig) -> None:
    config = small_config.model_copy(update={"policy": "random"})
    whole = orchestrate_run(config, tmp_path / "whole")
    stopped = orchestrate_run(config, tmp_path / "part", stop_after=1)
    assert not stopped.finished and len(stopped.results) == 4
    resumed = orchestrate_run(None, tmp_path / "part", resume=True)
    keep = ("index", "task_id", "team", "success")
    assert [{k: r[k] for k in keep} for r in sorted(resumed.results, key=lambda r: r["index"])] == \
           [{k: r[k] for k in keep} for r in sorted(whole.results, key=lambda r: r["index"])]


def test_resuming_with_other_settings_is_refused_naming_them(tmp_path: Path, small_config: OrchestrateConfig) -> None:
    orchestrate_run(small_config.model_copy(update={"policy": "fixed", "rounds": 1}), tmp_path / "run")
    with pytest.raises(ConfigError, match="rounds: saved 1, given 3"):
        orchestrate_run(small_config.model_copy(update={"policy": "fixed", "rounds": 3}), tmp_path / "run", resume=True)
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert saved["schema_version"] == 1 and saved["kind"] == "orchestrate"


def test_corpora_are_copied_in_and_a_missing_one_is_named(tmp_path: Path, small_config: OrchestrateConfig) -> None:
    first = orchestrate_run(small_config.model_copy(update={"rounds": 1, "retrain_every": 0}), tmp_path / "first")
    config = small_config.model_copy(update={"rounds": 1, "corpora": (first.store,)})
    second = orchestrate_run(config, tmp_path / "second")
    assert [(r["after_tasks"], r["traces"]) for r in second.retrains] == [(0, 4), (4, 8)]
    with pytest.raises(InputError, match="no calling-tree store there"):
        orchestrate_run(small_config.model_copy(update={"corpora": (str(tmp_path / "nope.sqlite"),)}), tmp_path / "third")


def test_copies_of_one_pool_file_give_one_run_id_and_another_pool_another(tmp_path: Path) -> None:
    """The run id (and so every trace id and the recommender's validation split) follows what the
    pool file says, not the folder it lies in."""
    pool = "schema_version: 1\nname: mine\nmembers:\n  - name: calculator\n    tool: coachgraph.agents.marketplace:calculator\n    cost: 0.3\n"
    first, second, other = tmp_path / "a" / "pool.yaml", tmp_path / "b" / "pool.yaml", tmp_path / "c" / "pool.yaml"
    for path, body in ((first, pool), (second, pool), (other, pool.replace("cost: 0.3", "cost: 0.4", 1))):
        path.parent.mkdir()
        path.write_text(body, encoding="utf-8")
    ids = [run_id_of(OrchestrateConfig(pool=str(p))) for p in (first, second, other)]
    assert ids[0] == ids[1] != ids[2]
