"""`run_demo`: a short curriculum run whose skill library grows by reflection, an orchestrate run in
which the recommender learns to pick teams from its own calling trees, recommendation queries to
the trained recommender, and a report folder of everything.

The demo is resumable: its two runs are ordinary run folders (``curriculum/``, ``orchestrate/``)
under the demo folder, and running the demo again on the same folder continues them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coachgraph.agents.pool import PoolFile, load_pool
from coachgraph.config import Settings
from coachgraph.demo.config import DemoConfig
from coachgraph.demo.queries import QueryAnswer, answer_queries
from coachgraph.demo.report import write_report
from coachgraph.graphs.curriculum import RunResult, train_run
from coachgraph.graphs.orchestrate import (
    OrchestrateResult,
    RoundSummary,
    orchestrate_run,
    round_summaries,
)
from coachgraph.graphs.orchestrate.benchmark import BUILTIN_FAULTY
from coachgraph.graphs.runs import Progress
from coachgraph.recommend import RecommendService

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What the demo did, as the report shows it."""

    out: Path
    curriculum: RunResult
    orchestrate: OrchestrateResult
    pool: PoolFile
    skills: tuple[str, ...]
    """Skills the student practised and was evaluated on."""
    reflections: list[dict[str, Any]]
    """What each reflection did to the library (step, action, skill, retired)."""
    skills_before: int
    skills_after: int
    rounds: list[RoundSummary]
    """The orchestrate rounds, with the share of faulty members where they are known."""
    retrains: list[dict[str, Any]]
    queries: list[QueryAnswer]
    seconds: float
    cores: int
    outputs: dict[str, Path] = field(default_factory=dict)


def _resumable(run_dir: Path) -> bool:
    return (run_dir / "run.json").is_file()


def _reflections(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((run_dir / "reflections").glob("step-*.json"))]


def run_demo(out: str | Path, config: DemoConfig | None = None, *, curriculum_progress: Progress | None = None,
             orchestrate_progress: Progress | None = None,
             stage: Callable[[str], None] | None = None) -> DemoResult:
    """Run the demo into `out` (continuing the runs already there) and write its report.

    Args:
        out: the demo folder: ``curriculum/``, ``orchestrate/``, ``report.md`` and the plots.
        config: what to run (`DemoConfig` defaults: a few minutes on two cores).
        curriculum_progress: called after every node of the curriculum run.
        orchestrate_progress: called after every node of the orchestrate run.
        stage: told the name of each stage as it starts.
    """
    config, out, started = config or DemoConfig(), Path(out), time.perf_counter()
    announce = stage or (lambda name: None)
    cur_dir, orch_dir = out / "curriculum", out / "orchestrate"
    announce("curriculum")
    cur = train_run(None if _resumable(cur_dir) else config.curriculum, cur_dir, resume=_resumable(cur_dir),
                    progress=curriculum_progress)
    announce("orchestrate")
    orch_config = config.orchestrate.model_copy(update={"library": str(cur_dir / "skills")})
    orch = orchestrate_run(None if _resumable(orch_dir) else orch_config, orch_dir, resume=_resumable(orch_dir),
                           progress=orchestrate_progress)
    announce("queries")
    pool = load_pool(config.orchestrate.pool)
    service = RecommendService(orch.store, Settings.from_env())
    queries = answer_queries(service, pool, config.queries, top=config.top, team_size=config.orchestrate.team_size)
    reflections = _reflections(cur_dir)
    after = len(list((cur_dir / "skills").glob("*/SKILL.md")))
    created = sum(r.get("action") == "create" for r in reflections)
    retired = sum(len(r.get("retired") or []) for r in reflections)
    faulty = BUILTIN_FAULTY if config.orchestrate.pool is None else ()
    result = DemoResult(out=out, curriculum=cur, orchestrate=orch, pool=pool,
        skills=tuple(cur.final_accuracy) or config.curriculum.skills, reflections=reflections,
        skills_before=after - created + retired, skills_after=after,
        rounds=round_summaries(orch.results, pool, faulty), retrains=orch.retrains, queries=queries,
        seconds=time.perf_counter() - started, cores=os.cpu_count() or 1)
    announce("report")
    calltree = orch.outputs.get("calltree")
    if calltree is not None:
        (out / "calltree.png").write_bytes(calltree.read_bytes())
    result.outputs["report"] = write_report(result, out)
    return result
