"""Progressive disclosure: the only way skill text reaches a prompt.

Level 1 is the `<available_skills>` XML list (names and descriptions), as the reference tooling
renders it. Level 2 is one skill's body, and level 3 one bundled file; both are wrapped in
delimiters that the skill text itself cannot close, so a skill cannot smuggle instructions
outside its block.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from pathlib import Path

from coachgraph.errors import SkillValidationError
from coachgraph.skills.model import Skill

__all__ = ["MAX_RESOURCE_BYTES", "RESOURCE_DIRS", "render_available_skills", "render_resource", "render_skill", "resolve_resource"]

MAX_RESOURCE_BYTES = 64 * 1024
"""Largest bundled file shown at level 3."""
RESOURCE_DIRS = ("references", "assets", "scripts")
"""Folders whose files may be shown (as text; scripts are never run)."""


def _neutralise(text: str, tag: str) -> str:
    return text.replace(f"</{tag}", f"&lt;/{tag}").replace(f"<{tag}", f"&lt;{tag}")


def render_available_skills(skills: Iterable[Skill], locations: dict[str, str] | None = None) -> str:
    """Level 1: ``<available_skills>`` with one ``<skill>`` (name, description, location) each."""
    parts = ["<available_skills>"]
    for skill in skills:
        parts.append("<skill>")
        parts.append(f"<name>{escape(skill.name)}</name>")
        parts.append(f"<description>{escape(skill.description)}</description>")
        if locations and skill.name in locations:
            parts.append(f"<location>{escape(locations[skill.name])}</location>")
        parts.append("</skill>")
    parts.append("</available_skills>")
    return "\n".join(parts)


def render_skill(skill: Skill) -> str:
    """Level 2: the skill's body inside ``<skill_content name=... version=...>``."""
    body = _neutralise(skill.body.strip(), "skill_content")
    return f'<skill_content name="{escape(skill.name)}" version="{skill.version}">\n{body}\n</skill_content>'


def resolve_resource(folder: Path, relative: str) -> Path:
    """The file `relative` inside `folder`'s resource folders; reject escapes, links and big files."""
    source = f"{folder}/{relative}"
    parts = Path(relative).parts
    if not parts or parts[0] not in RESOURCE_DIRS or ".." in parts or Path(relative).is_absolute():
        raise SkillValidationError(f"resources must be under {', '.join(RESOURCE_DIRS)}/", source=source)
    path = folder / relative
    if path.is_symlink() or not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        raise SkillValidationError("not a regular file inside the skill folder", source=source)
    if path.stat().st_size > MAX_RESOURCE_BYTES:
        raise SkillValidationError(f"larger than {MAX_RESOURCE_BYTES} bytes", source=source)
    return path


def render_resource(skill: Skill, folder: Path, relative: str) -> str:
    """Level 3: one bundled text file inside ``<skill_resource skill=... path=...>``."""
    path = resolve_resource(folder, relative)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SkillValidationError("not UTF-8 text", source=str(path)) from None
    body = _neutralise(text, "skill_resource")
    return f'<skill_resource skill="{escape(skill.name)}" path="{escape(relative)}">\n{body}\n</skill_resource>'
