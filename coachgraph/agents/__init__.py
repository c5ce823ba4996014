"""The curriculum agents as LangGraph node functions, with dependencies in runtime context."""

from __future__ import annotations

from coachgraph.agents._prompts import load_prompts, render_prompt
from coachgraph.agents.context import AgentConfig, AgentContext, Objective
from coachgraph.agents.critic import critic_node, first_wrong_step, judge
from coachgraph.agents.evaluate import evaluate_node, heldout_scores
from coachgraph.agents.learn import (
    OBJECTIVES,
    learn_node,
    reference_solution,
    saved_steps,
    trainer_folder,
)
from coachgraph.agents.planner import planner_node
from coachgraph.agents.reflector import reflect_node, step_trajectories
from coachgraph.agents.student import student_messages, student_node
from coachgraph.agents.teacher import reformulate, teacher_node

__all__ = (
    "OBJECTIVES",
    "AgentConfig",
    "AgentContext",
    "Objective",
    "critic_node",
    "evaluate_node",
    "first_wrong_step",
    "heldout_scores",
    "judge",
    "learn_node",
    "load_prompts",
    "planner_node",
    "reference_solution",
    "reflect_node",
    "saved_steps",
    "reformulate",
    "render_prompt",
    "student_messages",
    "student_node",
    "step_trajectories",
    "teacher_node",
    "trainer_folder",
)
