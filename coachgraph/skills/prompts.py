"""Prompt templates shipped as package data (YAML of Jinja2 templates, strict about slots)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

__all__ = ["load_prompts", "render_prompt"]

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@cache
def load_prompts(name: str) -> dict[str, Template]:
    """The templates of ``coachgraph/skills/prompts/<name>.yaml`` by key."""
    text = resources.files("coachgraph.skills").joinpath("prompts", f"{name}.yaml").read_text(encoding="utf-8")
    return {key: _ENV.from_string(value) for key, value in yaml.safe_load(text).items()}


def render_prompt(name: str, key: str, **slots: Any) -> str:
    """Render one template; a missing slot raises instead of rendering as empty."""
    return load_prompts(name)[key].render(**slots).strip()
