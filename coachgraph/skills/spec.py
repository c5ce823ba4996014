"""Parse, render and validate `SKILL.md` to the Agent Skills spec.

What the reference validator rejects we reject, naming the file and the field: a bad or missing
`name` (1-64 lowercase letters, digits, single inner hyphens, equal to the folder name), a bad or
missing `description` (1-1024 characters), `compatibility` over 500 characters, `metadata` that
is not a flat map, flow-style YAML, and any top-level key outside the spec. Our own
``coachgraph.*`` metadata fields are checked as well.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from coachgraph.errors import SkillValidationError
from coachgraph.skills.model import META_PREFIX, Skill, SkillKind

__all__ = [
    "ALLOWED_FIELDS",
    "MAX_SKILL_BYTES",
    "check_name",
    "find_skill_file",
    "folder_problems",
    "parse_skill_md",
    "read_skill",
    "render_skill_md",
    "skill_problems",
]

ALLOWED_FIELDS = frozenset({"name", "description", "license", "compatibility", "metadata", "allowed-tools"})
MAX_NAME, MAX_DESCRIPTION, MAX_COMPATIBILITY = 64, 1024, 500
MAX_SKILL_BYTES = 256 * 1024
"""Largest `SKILL.md` we read; larger files are rejected before parsing."""
SKILL_FILES = ("SKILL.md", "skill.md")


def _error(message: str, source: str, field: str | None = None) -> SkillValidationError:
    return SkillValidationError(message, source=source, field=field)


def check_name(name: object, source: str, folder: str | None = None) -> list[SkillValidationError]:
    """Problems with a skill name (empty list when valid)."""
    if not isinstance(name, str) or not name.strip():
        return [_error("required and must be a non-empty string", source, "name")]
    name = unicodedata.normalize("NFKC", name.strip())
    rules = [
        (len(name) > MAX_NAME, f"must be at most {MAX_NAME} characters, got {len(name)}"),
        (any(not (c == "-" or c.isdigit() or (c.isalpha() and c.islower())) for c in name),
         f"{name!r} may hold only lowercase letters, digits and hyphens"),
        (name.startswith("-") or name.endswith("-"), f"{name!r} must not start or end with a hyphen"),
        ("--" in name, f"{name!r} must not contain consecutive hyphens"),
        (folder is not None and name != folder, f"{name!r} must equal the folder name {folder!r}"),
    ]
    return [_error(message, source, "name") for broken, message in rules if broken]


def _check_description(value: object, source: str) -> list[SkillValidationError]:
    if not isinstance(value, str) or not value.strip():
        return [_error("required and must be a non-empty string", source, "description")]
    if len(value) > MAX_DESCRIPTION:
        return [_error(f"must be at most {MAX_DESCRIPTION} characters, got {len(value)}", source, "description")]
    return []


def _check_compatibility(value: object, source: str) -> list[SkillValidationError]:
    if value is None:
        return []
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_COMPATIBILITY:
        return [_error(f"must be a string of 1 to {MAX_COMPATIBILITY} characters", source, "compatibility")]
    return []


def _check_metadata(value: object, source: str) -> list[SkillValidationError]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [_error("must be a map of string keys to string values", source, "metadata")]
    nested = [str(k) for k, v in value.items() if isinstance(v, (Mapping, list))]
    problems = [_error("values must be strings, not maps or lists", source, f"metadata.{k}") for k in nested]
    ours = {str(k)[len(META_PREFIX):]: str(v) for k, v in value.items() if str(k).startswith(META_PREFIX)}
    for key, text in ours.items():
        problems.extend(_check_ours(key, text, source))
    return problems


def _kind_ok(text: str) -> bool:
    return text in {k.value for k in SkillKind}


def _version_ok(text: str) -> bool:
    return text.isdigit() and int(text) >= 1


def _difficulty_ok(text: str) -> bool:
    try:
        return 0.0 <= float(text) <= 1.0
    except ValueError:
        return False


def _prerequisites_ok(text: str) -> bool:
    return all(not check_name(p, "") for p in text.split())


_OUR_FIELDS: dict[str, tuple[Callable[[str], bool], str]] = {
    "kind": (_kind_ok, "must be one of " + ", ".join(k.value for k in SkillKind)),
    "version": (_version_ok, "must be a positive integer"),
    "difficulty": (_difficulty_ok, "must be a number between 0 and 1"),
    "prerequisites": (_prerequisites_ok, "must be space-separated valid skill names"),
}


def _check_ours(key: str, text: str, source: str) -> list[SkillValidationError]:
    field = f"metadata.{META_PREFIX}{key}"
    if key not in _OUR_FIELDS:
        return [_error(f"unknown coachgraph field (known: {', '.join(_OUR_FIELDS)})", source, field)]
    valid, message = _OUR_FIELDS[key]
    return [] if valid(text) else [_error(f"{text!r} {message}", source, field)]


def skill_problems(data: Mapping[str, Any], source: str, folder: str | None = None) -> list[SkillValidationError]:
    """Every problem with parsed front matter `data` (empty when the skill is valid)."""
    extra = sorted(str(k) for k in data if k not in ALLOWED_FIELDS)
    problems = [_error(f"unexpected top-level field (allowed: {', '.join(sorted(ALLOWED_FIELDS))}); put it under metadata", source, k) for k in extra]
    problems += check_name(data.get("name"), source, folder)
    problems += _check_description(data.get("description"), source)
    problems += _check_compatibility(data.get("compatibility"), source)
    problems += _check_metadata(data.get("metadata"), source)
    for key in ("license", "allowed-tools"):
        if key in data and not isinstance(data[key], str):
            problems.append(_error("must be a string", source, key))
    return problems


def _flow_nodes(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if node.flow_style:
            yield node
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        for child in children:
            yield from _flow_nodes(child)


def _front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise _error("must start with YAML front matter between '---' lines", source)
    end = next((n for n, line in enumerate(lines[1:], start=1) if line.strip() == "---"), None)
    if end is None:
        raise _error("front matter is not closed with a '---' line", source)
    raw = "".join(lines[1:end])
    try:
        flow = next(_flow_nodes(yaml.compose(raw, Loader=yaml.SafeLoader)), None) if raw.strip() else None
        data = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        raise _error(f"invalid YAML: {exc}", source) from None
    if flow is not None:
        raise _error(f"flow-style YAML (line {flow.start_mark.line + 2}) is not allowed; use block style", source)
    if not isinstance(data, dict):
        raise _error("front matter must be a YAML mapping", source)
    return data, "".join(lines[end + 1 :]).strip("\n")


def parse_skill_md(text: str, source: str = "SKILL.md", folder: str | None = None) -> Skill:
    """Parse and validate `SKILL.md` text; raise the first `SkillValidationError` found."""
    data, body = _front_matter(text, source)
    problems = skill_problems(data, source, folder)
    if problems:
        raise problems[0]
    metadata = {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}
    return Skill.model_validate({**data, "name": unicodedata.normalize("NFKC", data["name"].strip()), "metadata": metadata, "body": body})


def render_skill_md(skill: Skill) -> str:
    """`SKILL.md` text for `skill`: block-style front matter, then the body."""
    data = skill.model_dump(by_alias=True, exclude={"body"}, exclude_none=True)
    if not data.get("metadata"):
        data.pop("metadata", None)
    front = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return f"---\n{front}---\n\n{skill.body.strip()}\n"


def find_skill_file(folder: Path) -> Path:
    """The folder's `SKILL.md` (``skill.md`` accepted); raise naming the folder if absent."""
    for name in SKILL_FILES:
        if (folder / name).is_file():
            return folder / name
    raise _error("no SKILL.md in this folder", str(folder))


def folder_problems(folder: Path) -> list[SkillValidationError]:
    """Every problem with the skill in `folder` (empty when valid), for reports."""
    try:
        file, text = _read_text(folder)
        data, _ = _front_matter(text, str(file))
    except SkillValidationError as exc:
        return [exc]
    return skill_problems(data, str(file), folder.name)


def read_skill(folder: Path) -> Skill:
    """Read and validate the skill in `folder` (bounded size, never following links out)."""
    file, text = _read_text(folder)
    return parse_skill_md(text, str(file), folder.name)


def _read_text(folder: Path) -> tuple[Path, str]:
    file = find_skill_file(folder)
    if file.is_symlink():
        raise _error("SKILL.md must not be a symbolic link", str(file))
    size = file.stat().st_size
    if size > MAX_SKILL_BYTES:
        raise _error(f"file is {size} bytes; the limit is {MAX_SKILL_BYTES}", str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"not UTF-8 text: {exc}", str(file)) from None
    return file, text
