"""The agents' prompts: ``prompts/<role>.yaml`` of Jinja2 templates with strict slots."""

from __future__ import annotations

from coachgraph.prompts import PromptBook

__all__ = ["AGENT_PROMPTS", "ROLES", "load_prompts", "render_prompt"]

ROLES = ("critic", "learner", "member", "planner", "student", "teacher")
"""Roles that ship a prompt file (`member`: the agents of a team and their supervisor)."""

AGENT_PROMPTS = PromptBook("coachgraph.agents", ROLES, kind="role")
"""Templates of ``coachgraph/agents/prompts/*.yaml``."""

load_prompts = AGENT_PROMPTS.load
render_prompt = AGENT_PROMPTS.render
