"""Prompt templates as package data, loaded and rendered the same way for every package.

A package that ships prompts keeps ``<package>/prompts/<name>.yaml`` files of Jinja2 templates
and declares one `PromptBook` over them; rendering is strict, so a missing slot fails naming the
template instead of quietly rendering as empty text.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template, UndefinedError

from coachgraph.errors import InputError

__all__ = ["PromptBook"]

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class PromptBook:
    """The prompt files of one package.

    Args:
        package: the package holding a ``prompts/`` folder, e.g. ``"coachgraph.agents"``.
        names: the files it ships (without ``.yaml``); other names are refused.
        kind: what a name is, for error messages (``"role"``, ``"prompt set"``).

    Example:
        >>> book = PromptBook("coachgraph.agents", ("planner",), kind="role")
        >>> book.render("planner", "reason", step=3, decision="sec: P=0.5", gated="")
        'step 3: sec: P=0.5'
    """

    def __init__(self, package: str, names: tuple[str, ...], kind: str = "prompt set") -> None:
        self.package, self.names, self.kind = package, names, kind
        self._loaded: dict[str, dict[str, Template]] = {}

    def load(self, name: str) -> dict[str, Template]:
        """The templates of ``<package>/prompts/<name>.yaml`` by key (read once)."""
        if name not in self.names:
            raise InputError(f"no prompts for {self.kind} {name!r}; known: {', '.join(self.names)}",
                             source=self.kind)
        if name not in self._loaded:
            text = resources.files(self.package).joinpath("prompts", f"{name}.yaml").read_text(encoding="utf-8")
            self._loaded[name] = {key: _ENV.from_string(value) for key, value in yaml.safe_load(text).items()}
        return self._loaded[name]

    def render(self, name: str, key: str, **slots: Any) -> str:
        """Render one template; a missing slot raises `InputError` naming the template."""
        try:
            return self.load(name)[key].render(**slots).strip()
        except UndefinedError as err:
            raise InputError(f"prompt {name}.{key}: {err.message}", source=f"prompts/{name}.yaml") from err
