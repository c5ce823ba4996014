"""The four roles as behaviour that any graph's nodes call: teacher, student, critic, planner
(with the reflector that writes skills and the objectives the student learns by; in tutoring,
the critic's diagnosis, the planner's learning paths, the teacher's moves and the answer-leak
guard, and simulated learners), plus the context every graph's nodes share. Each graph's own
nodes, typed with its state, live in its package under `coachgraph.graphs`."""

from __future__ import annotations

from coachgraph.agents.context import BaseContext, shared_chat_model, shared_domain, shared_library
from coachgraph.agents.critic import first_wrong_step, grade_items, judge
from coachgraph.agents.diagnosis import Diagnosis, diagnose, misconception_criteria
from coachgraph.agents.guard import AnswerGuard, guard_text, leaks_answer
from coachgraph.agents.learn import (
    OBJECTIVES,
    Objective,
    ObjectiveWeights,
    graded_outcome,
    reference_solution,
)
from coachgraph.agents.learners import (
    ModelLearner,
    ParametricLearner,
    PopulationConfig,
    SimulatedLearner,
    sample_learner,
)
from coachgraph.agents.planner import (
    plan_learning,
    plan_practice,
    prerequisites_mastered,
    restore_curriculum,
)
from coachgraph.agents.prompts import load_prompts, render_prompt
from coachgraph.agents.reflector import (
    SkillOutcome,
    count_outcomes,
    reflect_due,
    skill_outcomes,
    step_trajectories,
    write_skill,
)
from coachgraph.agents.student import answer_items, answerer, retrieved_skills, student_messages
from coachgraph.agents.teacher import (
    missing_skill_problems,
    planned_problems,
    reformulate,
    reformulations,
    synthesize,
)
from coachgraph.agents.tutoring import (
    HINT_LEVELS,
    Written,
    explain_skill,
    feedback,
    hint,
    pose_problem,
    similar_problem,
    worked_solution,
)

__all__ = (
    "HINT_LEVELS",
    "OBJECTIVES",
    "AnswerGuard",
    "BaseContext",
    "Diagnosis",
    "ModelLearner",
    "Objective",
    "ObjectiveWeights",
    "ParametricLearner",
    "PopulationConfig",
    "SimulatedLearner",
    "SkillOutcome",
    "Written",
    "answer_items",
    "answerer",
    "count_outcomes",
    "diagnose",
    "explain_skill",
    "feedback",
    "first_wrong_step",
    "grade_items",
    "graded_outcome",
    "guard_text",
    "hint",
    "judge",
    "leaks_answer",
    "load_prompts",
    "misconception_criteria",
    "missing_skill_problems",
    "plan_learning",
    "plan_practice",
    "planned_problems",
    "pose_problem",
    "prerequisites_mastered",
    "reference_solution",
    "reflect_due",
    "reformulate",
    "reformulations",
    "render_prompt",
    "restore_curriculum",
    "retrieved_skills",
    "sample_learner",
    "shared_chat_model",
    "shared_domain",
    "shared_library",
    "similar_problem",
    "skill_outcomes",
    "step_trajectories",
    "student_messages",
    "synthesize",
    "worked_solution",
    "write_skill",
)
