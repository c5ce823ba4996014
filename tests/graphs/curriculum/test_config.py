"""A run's settings: declared once, saved with a schema version, read strictly, and never changed
by a resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coachgraph.cli.main import app
from coachgraph.errors import ConfigError
from coachgraph.graphs.curriculum import AgentConfig, RunConfig, load_run, train_run
from coachgraph.graphs.curriculum.config import RUN_SCHEMA_VERSION, write_run_file


def _saved(tmp_path: Path, config: RunConfig | None = None) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_run_file(run_dir / "run.json", "sec-s0-abc", config or RunConfig(steps=7))
    return run_dir


def test_run_file_round_trips_with_its_schema_version(tmp_path: Path) -> None:
    config = RunConfig(steps=7, teacher_options={"alp-gmm": {"fit_rate": 32}}, agents=AgentConfig(samples=2))
    run_dir = _saved(tmp_path, config)
    data = json.loads((run_dir / "run.json").read_text())
    assert data["schema_version"] == RUN_SCHEMA_VERSION and data["config"]["agents"]["samples"] == 2
    assert load_run(run_dir) == (config, "sec-s0-abc")


def test_a_run_file_written_before_training_precision_resumes_in_float32(tmp_path: Path) -> None:
    run_dir = _saved(tmp_path, RunConfig(steps=7, precision="fp32"))
    data = json.loads((run_dir / "run.json").read_text())
    del data["config"]["train_precision"]
    (run_dir / "run.json").write_text(json.dumps(data))
    assert load_run(run_dir)[0].train_precision == "fp32"
    assert RunConfig().train_precision == "bf16"  # new runs train in mixed precision


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["config"].update(stepz=3), "field 'config.stepz'"),
    (lambda d: d["config"]["agents"].update(temprature=0.5), "field 'config.agents.temprature'"),
    (lambda d: d.update(extra=1), "unknown field 'extra'"),
    (lambda d: d.pop("schema_version"), "no schema_version"),
    (lambda d: d.update(schema_version=99), "schema_version 99"),
    (lambda d: d["config"].update(steps=0), "field 'config.steps'"),
])
def test_a_run_file_it_cannot_read_is_refused_naming_the_field(tmp_path: Path, edit, message: str) -> None:
    run_dir = _saved(tmp_path)
    data = json.loads((run_dir / "run.json").read_text())
    edit(data)
    (run_dir / "run.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        load_run(run_dir)


def test_resume_with_other_settings_is_refused_naming_each(tmp_path: Path) -> None:
    run_dir = _saved(tmp_path)
    other = RunConfig(steps=9, agents=AgentConfig(samples=2))
    with pytest.raises(ConfigError) as err:
        train_run(other, run_dir, resume=True)
    assert "steps: saved 7, given 9" in str(err.value) and "agents.samples: saved 4, given 2" in str(err.value)


def test_the_command_line_refuses_a_resume_with_other_options(tmp_path: Path) -> None:
    run_dir = _saved(tmp_path)
    result = CliRunner().invoke(app, ["train", "--resume", str(run_dir), "--steps", "9", "--samples", "2"])
    assert result.exit_code == 2
    assert "steps: saved 7, given 9" in result.output and "agents.samples: saved 4, given 2" in result.output


def test_a_new_run_that_cannot_start_leaves_no_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "new"), "--skills", "add-9d"])
    assert result.exit_code == 2 and "unknown skill 'add-9d'" in result.output
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("command", [["train", "--out"], ["bench", "curriculum", "--json", "x.json", "--out"]])
def test_an_unknown_evaluated_skill_is_refused_before_anything_runs(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, str(tmp_path / "new"), "--eval-skills", "add-1d,add-9d"])
    assert result.exit_code == 2 and "unknown skill 'add-9d'" in result.output
    assert not (tmp_path / "new").exists() and not (tmp_path / "x.json").exists()


def test_a_benchmark_scored_on_skills_it_does_not_evaluate_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "curriculum", "--json", str(tmp_path / "x.json"), "--out",
                                      str(tmp_path / "b"), "--eval-skills", "add-2d", "--scored", "sub-2d"])
    assert result.exit_code == 2 and "scored skill 'sub-2d' is not evaluated" in result.output
    assert not (tmp_path / "b").exists() and not (tmp_path / "x.json").exists()
