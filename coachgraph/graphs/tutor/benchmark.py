"""`coachgraph bench tutor`: the tutor's planner against a fixed syllabus and random practice.

Simulated learners with hidden profiles (`sample_learner`) are first tutored by the planner with
default BKT parameters, and their answers are the data each skill's parameters are fitted to
(expectation-maximisation), as a deployment would fit them to its first learners' histories. A separate population of learners then works towards the same targets under each
policy, with the same turn budget, each policy on copies of the same learners: turns until the
learner truly knows every target, skills truly learnt per 20 turns, and how well the learner model
predicts each counted answer (AUC, Brier score, with the fitted and the default parameters). The
syllabus's problems per skill is chosen as the best of a grid on the fitting population, so the
baseline is the strongest fixed order. With a teacher model, the same hint and explanation calls
the tutor graph makes are run on problems of every skill, and the share of messages that state
the unsolved problem's answer is counted before and after the guard.
"""

from __future__ import annotations

import copy
import logging
import random
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from sklearn.metrics import roc_auc_score

from coachgraph.agents import (
    PopulationConfig,
    diagnose,
    explain_skill,
    hint,
    leaks_answer,
    sample_learner,
)
from coachgraph.agents.learners import ParametricLearner, typical_wrong_answer
from coachgraph.curriculum.bkt import BKTParams, fit_skills
from coachgraph.curriculum.learner import LearnerModel
from coachgraph.graphs.tutor.policies import PolicySpec, make_policy, target_closure
from coachgraph.graphs.tutor.simulate import SessionRecord, simulate_session
from coachgraph.seeding import derive_seed
from coachgraph.tasks import TaskDomain

__all__ = ["TutorBenchConfig", "bench_markdown", "leak_report", "run_tutor_bench"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TutorBenchConfig:
    """Sizes and settings of the tutor benchmark."""

    learners: int = 200
    """Learners each policy teaches (the same ones for every policy)."""
    fit_learners: int = 200
    """Learners whose random practice the BKT parameters are fitted to."""
    fit_turns: int = 60
    targets: tuple[str, ...] = ("mul-2x1", "word-2step")
    turns: int = 400
    """Turn budget of each session."""
    max_attempts: int = 3
    syllabus_grid: tuple[int, ...] = (3, 4, 6, 8, 10, 12)
    """Problems per skill tried for the fixed syllabus (the best on the fitting population is used)."""
    threshold: float = 0.95
    seed: int = 0
    bootstrap: int = 2000
    population: PopulationConfig = field(default_factory=PopulationConfig)


def _learner(domain: TaskDomain, cfg: TutorBenchConfig, index: int, purpose: str) -> ParametricLearner:
    return sample_learner(domain.prerequisites, seed=derive_seed(cfg.seed, purpose, index), config=cfg.population)


def _session(domain: TaskDomain, cfg: TutorBenchConfig, learner: ParametricLearner, policy: str, params: dict[str, BKTParams],
             index: int, per_skill: int, turns: int | None = None) -> SessionRecord:
    spec = PolicySpec(domain.prerequisites, cfg.targets, domain.skills, per_skill=per_skill, seed=cfg.seed * 100_003 + index)
    model = LearnerModel.start(f"sim{index}", domain.name, params, cfg.threshold)
    closure = target_closure(domain.prerequisites, cfg.targets, domain.skills)
    return simulate_session(copy.deepcopy(learner), model, make_policy(policy, spec), domain, targets=cfg.targets,
                            closure=closure, turns=turns or cfg.turns, max_attempts=cfg.max_attempts,
                            seed=cfg.seed * 7919 + index)


def fit_population(domain: TaskDomain, cfg: TutorBenchConfig, default: BKTParams) -> tuple[dict[str, BKTParams], int]:
    """BKT parameters fitted to the sessions of the fitting population, and the answer count.

    Those learners are tutored as the first learners of a new deployment would be: by the
    planner with the default parameters, for `fit_turns` answers each; their histories are the
    data (what ``coachgraph tutor fit`` fits to in a store).
    """
    sequences: dict[str, list[list[int]]] = {s: [] for s in domain.skills}
    defaults = {s: default for s in domain.skills}
    for i in range(cfg.fit_learners):
        record = _session(domain, cfg, _learner(domain, cfg, i, "fit"), "planner", defaults, i, 1, turns=cfg.fit_turns)
        for skill, answers in record.sequences.items():
            sequences[skill].append(answers)
    count = sum(len(s) for seqs in sequences.values() for s in seqs)
    return fit_skills(sequences, min_answers=30, default=default), count


def _best_per_skill(domain: TaskDomain, cfg: TutorBenchConfig, params: dict[str, BKTParams]) -> dict[int, float]:
    """Mean turns to mastery of the fixed syllabus on the fitting population, per grid value."""
    means = {}
    for k in cfg.syllabus_grid:
        records = [_session(domain, cfg, _learner(domain, cfg, i, "fit"), "syllabus", params, i, k)
                   for i in range(min(cfg.fit_learners, 100))]
        means[k] = statistics.fmean(_turns_to_mastery(r, cfg.turns) for r in records)
    return means


def _turns_to_mastery(record: SessionRecord, budget: int) -> int:
    return record.mastered_at if record.mastered_at is not None else budget


def _prediction_quality(pairs: Sequence[tuple[float, int]]) -> dict[str, float | None]:
    if not pairs:
        return {"auc": None, "brier": None, "answers": 0}
    predicted, actual = np.array([p for p, _ in pairs]), np.array([a for _, a in pairs])
    auc = float(roc_auc_score(actual, predicted)) if 0 < actual.sum() < len(actual) else None
    return {"auc": auc, "brier": float(np.mean((predicted - actual) ** 2)), "answers": len(pairs)}


def _replayed(records: Sequence[SessionRecord], domain: TaskDomain, params: dict[str, BKTParams],
              threshold: float) -> list[tuple[float, int]]:
    """The same answers, in the same order, predicted by a learner model with other parameters."""
    pairs = []
    for record in records:
        model = LearnerModel.start("replay", domain.name, params, threshold)
        for i, (skill, correct) in enumerate(record.answers):
            pairs.append((model.predict(skill), correct))
            model = model.observe(skill, bool(correct), str(i), domain.prerequisites.get(skill, ()))
    return pairs


def _bootstrap_ratio(ours: Sequence[float], theirs: Sequence[float], draws: int, seed: int) -> tuple[float, float]:
    """95% interval of mean(ours) / mean(theirs) over learners, resampled in pairs."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    picks = rng.integers(0, len(a), size=(draws, len(a)))
    ratios = a[picks].mean(axis=1) / b[picks].mean(axis=1)
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def _summary(records: Sequence[SessionRecord], budget: int) -> dict[str, Any]:
    turns = [_turns_to_mastery(r, budget) for r in records]
    gained = [20.0 * (r.known_end - r.known_start) / max(_turns_to_mastery(r, budget), 1) for r in records]
    return {"turns_to_mastery": statistics.fmean(turns), "turns_median": statistics.median(turns),
            "not_mastered": sum(r.mastered_at is None for r in records), "gain_per_20_turns": statistics.fmean(gained),
            "prerequisite_violations": sum(r.violations for r in records),
            "problems": sum(len(r.choices) for r in records),
            "prediction": _prediction_quality([p for r in records for p in r.predictions]), "turns": turns}


def run_tutor_bench(domain: TaskDomain, cfg: TutorBenchConfig, default: BKTParams | None = None) -> dict[str, Any]:
    """Fit, tune the syllabus, then teach the same learners with every policy; see the module docstring."""
    default = default or BKTParams()
    params, fit_answers = fit_population(domain, cfg, default)
    grid = _best_per_skill(domain, cfg, params)
    per_skill = min(grid, key=lambda k: (grid[k], k))
    learners = [_learner(domain, cfg, i, "test") for i in range(cfg.learners)]
    records = {policy: [_session(domain, cfg, learner, policy, params, i, per_skill) for i, learner in enumerate(learners)]
               for policy in ("planner", "syllabus", "random")}
    result = {policy: _summary(rs, cfg.turns) for policy, rs in records.items()}
    ours, fixed = result["planner"]["turns"], result["syllabus"]["turns"]
    low, high = _bootstrap_ratio(ours, fixed, cfg.bootstrap, cfg.seed)
    defaults = {s: default for s in domain.skills}
    result["planner"]["prediction_default_params"] = _prediction_quality(
        _replayed(records["planner"], domain, defaults, cfg.threshold))
    logger.info("planner/syllabus turns ratio %.3f [%.3f, %.3f]", statistics.fmean(ours) / statistics.fmean(fixed), low, high)
    return {"config": {**asdict(cfg), "population": asdict(cfg.population)}, "domain": domain.name,
            "fitted": {"answers": fit_answers, "params": {s: p.model_dump() for s, p in params.items()}},
            "syllabus_per_skill": per_skill, "syllabus_grid": grid, "policies": result,
            "ratio": {"planner_over_syllabus": statistics.fmean(ours) / statistics.fmean(fixed), "interval95": [low, high]}}


def leak_report(model: BaseChatModel, domain: TaskDomain, *, messages: int, seed: int = 0,
                skills: Sequence[str] | None = None, max_tokens: int = 96) -> dict[str, Any]:
    """Hints (levels 1 and 2, after a typical wrong answer) and skill explanations written by
    `model` for unsolved problems: how many state the answer before the guard, and after it."""
    rng, pool = random.Random(f"leaks:{seed}"), list(skills or domain.skills)
    written = []
    for i in range(messages):
        task = domain.draw(pool[i % len(pool)], rng)
        found = diagnose(task, typical_wrong_answer(task, rng))
        if i % 3 == 2:
            part = explain_skill(task.skill, task, model=model, seed=seed + i, max_tokens=max_tokens)
        else:
            part = hint(task, found, 1 + i % 2, model=model, seed=seed + i, max_tokens=max_tokens)
        written.append({"skill": task.skill, "before": leaks_answer(part.raw, task.answer),
                        "after": leaks_answer(part.text, task.answer), "redactions": part.redactions})
    before, after = sum(bool(w["before"]) for w in written), sum(bool(w["after"]) for w in written)
    return {"messages": len(written), "leaked_before_guard": before, "leaked_after_guard": after,
            "share_before": before / max(len(written), 1), "share_after": after / max(len(written), 1)}


def bench_markdown(result: dict[str, Any]) -> str:
    """The benchmark's figures as a Markdown table."""
    rows = ["| policy | turns to mastery (mean / median) | not mastered | skills learnt per 20 turns | "
            "prerequisite violations | AUC | Brier |", "|---|---|---|---|---|---|---|"]
    for name, r in result["policies"].items():
        pq = r["prediction"]
        auc = f"{pq['auc']:.3f}" if pq["auc"] is not None else "n/a"
        brier = f"{pq['brier']:.3f}" if pq["brier"] is not None else "n/a"
        rows.append(f"| {name} | {r['turns_to_mastery']:.1f} / {r['turns_median']:.0f} | {r['not_mastered']} | "
                    f"{r['gain_per_20_turns']:.2f} | {r['prerequisite_violations']} of {r['problems']} | {auc} | {brier} |")
    ratio = result["ratio"]
    rows.append("")
    rows.append(f"planner / syllabus turns: {ratio['planner_over_syllabus']:.3f} (95% interval over learners "
                f"{ratio['interval95'][0]:.3f} to {ratio['interval95'][1]:.3f}); syllabus: "
                f"{result['syllabus_per_skill']} problems per skill")
    if "leaks" in result:
        leaks = result["leaks"]
        rows.append(f"teacher messages stating the unsolved answer: {leaks['leaked_before_guard']} of "
                    f"{leaks['messages']} before the guard, {leaks['leaked_after_guard']} after it")
    return "\n".join(rows)
