"""The curriculum graph's nodes: each reads the graph's state, calls one role, returns an update.

Every random draw is derived from the run seed and the step (`coachgraph.seeding`), so a node
that LangGraph re-runs after a kill returns what it returned before.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

from langgraph.runtime import Runtime

from coachgraph.agents import (
    OBJECTIVES,
    ObjectiveWeights,
    SkillOutcome,
    answer_items,
    answerer,
    count_outcomes,
    grade_items,
    graded_outcome,
    missing_skill_problems,
    plan_practice,
    planned_problems,
    reflect_due,
    reformulations,
    restore_curriculum,
    skill_outcomes,
    step_trajectories,
    write_skill,
)
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum.context import CurriculumContext
from coachgraph.graphs.curriculum.state import CurriculumState, dump_items, read_items
from coachgraph.graphs.curriculum.students import prune_states, train_or_load, trainer_folder
from coachgraph.seeding import derive_rng, derive_seed
from coachgraph.tasks import heldout_outcomes, outcome_accuracy
from coachgraph.types import CurriculumStep, StepItem, Task

__all__ = ["critic_node", "evaluate_node", "evaluated_skills", "learn_node", "planner_node", "reflect_node",
           "student_node", "teacher_node"]

logger = logging.getLogger(__name__)


def planner_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """Ask the curriculum algorithm for this step's decisions; they go to the plan and the record."""
    ctx = runtime.context
    restore_curriculum(ctx.curriculum, state.get("curriculum_state"))
    plan = [s.model_dump(mode="json") for s in plan_practice(ctx.curriculum, ctx.agents.batch_size, state.get("step", 0))]
    return {"plan": plan, "curriculum": plan, "curriculum_state": json.dumps(ctx.curriculum.state_dict())}


def teacher_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """One problem per decision, plus rewordings of and new problems for last step's failures."""
    ctx, step = runtime.context, state.get("step", 0)
    rng = derive_rng(ctx.seed, "teacher", step)
    tasks = planned_problems(ctx.domain, [CurriculumStep.model_validate(s) for s in state["plan"]], rng)
    failed = [Task.model_validate(t) for t in state.get("failed", [])]
    if ctx.teacher_model is not None and failed:
        tasks += reformulations(ctx.teacher_model, failed, ctx.agents.reformulate)
        tasks += missing_skill_problems(ctx.teacher_model, ctx.domain, failed, limit=ctx.agents.synthesize,
                                        rng=rng, seed=ctx.seed, step=step)
    return {"items": dump_items([StepItem(task=t) for t in tasks])}


def student_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """Sample G answers per problem, with retrieved skills in the prompt."""
    ctx, cfg = runtime.context, runtime.context.agents
    items = answer_items(ctx.student, read_items(state), ctx.library, skills_k=cfg.skills_k, samples=cfg.samples,
                         seed=derive_seed(ctx.seed, "student", state.get("step", 0)),
                         temperature=cfg.temperature, max_tokens=cfg.max_tokens)
    return {"items": dump_items(items)}


def critic_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """Grade every attempt (with CRew when configured)."""
    ctx = runtime.context
    graded = grade_items(read_items(state), ctx.student if ctx.agents.crew else None, ctx.agents.process_reward)
    return {"items": dump_items(graded)}


def _save_due(state: CurriculumState, step: int, has_library: bool) -> bool:
    """Save after every `save_every` steps, the last step, and before each reflection (which a
    resume must not replay across, since it changes the library the prompts draw from)."""
    reflect = has_library and reflect_due(step, state.get("reflect_every", 0))
    return step % max(state.get("save_every", 1), 1) == 0 or step >= state.get("max_steps", 0) or reflect


def learn_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """Train the student, update the curriculum algorithm, advance the step counter."""
    ctx, step = runtime.context, state.get("step", 0) + 1
    items = read_items(state)
    metrics = {}
    if ctx.trainer is not None:
        done = trainer_folder(ctx.run_dir, step)
        trainer, cfg = ctx.trainer, ctx.agents
        weights = ObjectiveWeights(positive=cfg.positive_weight, negative=cfg.negative_weight)
        metrics = train_or_load(trainer, lambda: OBJECTIVES[cfg.objective](trainer, items, weights), done,
                                save=_save_due(state, step, ctx.library is not None))
        if done.exists():
            prune_states(done)
    outcomes = [graded_outcome(item) for item in items]
    restore_curriculum(ctx.curriculum, state.get("curriculum_state"))
    ctx.curriculum.update(outcomes)
    rewards = [r for o in outcomes for r in o.rewards]
    summary = {"step": step, "mean_reward": sum(rewards) / max(len(rewards), 1),
               "loss": float(metrics.get("loss", 0.0)), "tokens": float(metrics.get("tokens", 0.0))}
    logger.info("step %d: mean reward %.3f, loss %.4f", step, summary["mean_reward"], summary["loss"])
    return {"step": step, "curriculum_state": json.dumps(ctx.curriculum.state_dict()), "metrics": [summary],
            "failed": [i.task.model_dump(mode="json") for i, o in zip(items, outcomes, strict=True) if o.mean_reward == 0],
            "skill_outcomes": [asdict(o) for o in skill_outcomes(items, ctx.domain, step)]}


def reflect_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """Count skill outcomes into the library, write one skill by reflection, retire failing ones.

    The library lives outside graph state, so each reflection leaves a marker file; a node that
    LangGraph re-runs after a kill finds it and changes nothing twice.
    """
    ctx, step = runtime.context, state.get("step", 0)
    if ctx.library is None:
        return {}
    marker = ctx.run_dir / "reflections" / f"step-{step:06d}.json"
    if marker.exists():
        return {"reflections": [json.loads(marker.read_text(encoding="utf-8"))]}
    run_id, done = state.get("run_id", ""), max((int(r["step"]) for r in state.get("reflections", [])), default=0)
    pending = [SkillOutcome(**o) for o in state.get("skill_outcomes", []) if int(o["step"]) > done]
    counted = count_outcomes(ctx.library, pending, run_id)
    written = [r["skill"] for r in state.get("reflections", []) if r.get("action") == "create"]
    reflection, retired = write_skill(ctx.teacher_model or ctx.student, ctx.library,
                                      step_trajectories(read_items(state), ctx.domain, run_id), written)
    record = {"step": step, "counted": counted, "action": reflection.action.value if reflection else None,
              "skill": reflection.skill.name if reflection else None, "retired": retired}
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(record), encoding="utf-8")
    return {"reflections": [record]}


def evaluated_skills(ctx: CurriculumContext) -> tuple[str, ...]:
    """The skills a run evaluates: the agents' `eval_skills`, else the run's skills."""
    return ctx.agents.eval_skills or ctx.skills


def _initial(ctx: CurriculumContext) -> dict[str, float] | None:
    """The step-0 accuracy given in the config, checked to cover exactly the evaluated skills."""
    given, skills = ctx.agents.initial_accuracy, evaluated_skills(ctx)
    if given is None:
        return None
    if sorted(given) != sorted(skills):
        raise InputError(f"initial_accuracy covers {sorted(given)}, the run evaluates {sorted(skills)}",
                         source="initial_accuracy")
    return {s: float(given[s]) for s in skills}


def evaluate_node(state: CurriculumState, runtime: Runtime[CurriculumContext]) -> CurriculumState:
    """Record greedy held-out accuracy per skill and, as a string of 0s and 1s per skill, which
    problems were right (at step 0, only the given initial accuracy if any)."""
    ctx, step = runtime.context, state.get("step", 0)
    cfg = ctx.agents
    initial = _initial(ctx) if step == 0 else None
    if initial is not None:
        return {"history": [{"step": step, "accuracy": initial}]}
    outcomes = heldout_outcomes(
        ctx.domain, answerer(ctx.student, ctx.library, skills_k=cfg.skills_k, seed=ctx.seed, max_tokens=cfg.max_tokens),
        evaluated_skills(ctx), size=cfg.eval_size)
    accuracy = outcome_accuracy(outcomes)
    logger.info("step %d held-out accuracy: %s", step, accuracy)
    correct = {s: "".join("1" if ok else "0" for ok in right) for s, right in outcomes.items()}
    return {"history": [{"step": step, "accuracy": accuracy, "correct": correct}]}
