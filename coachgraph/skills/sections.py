"""The markdown shape of a learned skill's body, and cleaning of model answers into it.

A learned skill's body has three lists (what worked, mistakes to avoid, workflow), following
Skill-SD's success / mistake / workflow summary. Model answers are cut into short lines with
list markers, quotes and duplicates removed.

>>> clean_lines("1. Find the LCM\\n- find the lcm\\n* Add numerators")
['Find the LCM', 'Add numerators']
>>> slugify("  Adding Fractions (unlike)!")
'adding-fractions-unlike'
"""

from __future__ import annotations

import re

__all__ = ["SECTIONS", "assemble_body", "clean_lines", "merge_sections", "parse_sections", "slugify"]

SECTIONS = {"worked": "What worked", "mistakes": "Mistakes to avoid", "workflow": "Workflow"}
"""Section keys and their headings, in body order."""
MAX_ITEMS, MAX_LINE = 8, 200
_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)]|step\s*\d+[:.)]?)\s*", re.I)


def clean_lines(text: str) -> list[str]:
    """Short, distinct, non-empty lines without list markers (case-insensitive dedupe)."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in text.splitlines():
        line = _MARKER.sub("", raw).strip().strip("\"'`").strip()
        if len(line) < 3 or line.lower() in seen or line.startswith("#"):
            continue
        seen.add(line.lower())
        out.append(line[:MAX_LINE])
    return out[:MAX_ITEMS]


def slugify(text: str) -> str:
    """A valid skill name from free text (first line, at most 5 words), or ``""``."""
    first = next((line for line in text.strip().splitlines() if line.strip()), "")
    words = re.findall(r"[a-z0-9]+", first.lower())[:5]
    return "-".join(words)[:64].strip("-")


def assemble_body(name: str, sections: dict[str, list[str]], attempts: int | None, successes: int | None) -> str:
    """Markdown body: a title, then each section as a list (numbered for the workflow)."""
    parts = [f"# {name.replace('-', ' ').capitalize()}"]
    for key, heading in SECTIONS.items():
        items = sections.get(key, [])
        marks = [f"{n}." for n in range(1, len(items) + 1)] if key == "workflow" else ["-"] * len(items)
        parts.append(f"## {heading}\n" + "\n".join(f"{m} {item}" for m, item in zip(marks, items, strict=True)))
    if attempts is not None:
        parts.append(f"## Evidence\nWritten from {attempts} attempts, {successes} of them correct.")
    return "\n\n".join(parts)


def parse_sections(body: str) -> dict[str, list[str]]:
    """The three lists of a body written by `assemble_body` (missing ones are empty)."""
    by_heading = {heading.lower(): key for key, heading in SECTIONS.items()}
    found: dict[str, list[str]] = {key: [] for key in SECTIONS}
    for chunk in re.split(r"^## ", body, flags=re.M)[1:]:
        heading, _, rest = chunk.partition("\n")
        key = by_heading.get(heading.strip().lower())
        if key:
            found[key] = clean_lines(rest)
    return found


def merge_sections(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per section, the old lines then the new ones not already there (capped)."""
    return {key: clean_lines("\n".join(old.get(key, []) + new.get(key, []))) for key in SECTIONS}
