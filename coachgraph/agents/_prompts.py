"""Agent prompts as package data: ``prompts/<role>.yaml`` of Jinja2 templates with strict slots."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template, UndefinedError

from coachgraph.errors import InputError

__all__ = ["ROLES", "load_prompts", "render_prompt"]

ROLES = ("critic", "planner", "student", "teacher")
"""Roles that ship a prompt file."""

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@cache
def load_prompts(role: str) -> dict[str, Template]:
    """The templates of ``coachgraph/agents/prompts/<role>.yaml`` by key."""
    if role not in ROLES:
        raise InputError(f"no prompts for role {role!r}; known: {', '.join(ROLES)}", source="role")
    text = resources.files("coachgraph.agents").joinpath("prompts", f"{role}.yaml").read_text(encoding="utf-8")
    return {key: _ENV.from_string(value) for key, value in yaml.safe_load(text).items()}


def render_prompt(role: str, key: str, **slots: Any) -> str:
    """Render one template; a missing slot raises `InputError` naming the template.

    >>> render_prompt("planner", "reason", step=3, decision="sec: P=0.5", gated="")
    'step 3: sec: P=0.5'
    """
    try:
        return load_prompts(role)[key].render(**slots).strip()
    except UndefinedError as err:
        raise InputError(f"prompt {role}.{key}: {err.message}", source=f"prompts/{role}.yaml") from err
