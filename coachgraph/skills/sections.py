"""The markdown shape of a learned skill's body, and cleaning of model answers into it.

A learned skill's body has three lists (what worked, mistakes to avoid, workflow), following
Skill-SD's success / mistake / workflow summary. Model answers are cut into short lines with
list markers, quotes and duplicates removed.

>>> clean_lines("1. Find the LCM\\n- find the lcm\\n* Add numerators")
['Find the LCM', 'Add numerators']
>>> slugify("  Adding Fractions (unlike)!")
'adding-fractions-unlike'
>>> name_from_answer("**Name:** Carrying in Addition"), name_from_answer("This skill requires a bit of practice.")
('carrying-in-addition', '')
"""

from __future__ import annotations

import re

__all__ = ["SECTIONS", "assemble_body", "clean_lines", "merge_sections", "name_from_answer", "parse_sections",
           "slugify"]

SECTIONS = {"worked": "What worked", "mistakes": "Mistakes to avoid", "workflow": "Workflow"}
"""Section keys and their headings, in body order."""
MAX_ITEMS, MAX_LINE = 8, 200
MAX_NAME_WORDS = 4
_NOT_A_NAME = frozenset("this that these it its i you we they he she there here sure answer the a an to is are "
                        "was were be can will should must do does let yes no".split())
"""Words a short noun phrase does not start with: answers starting so are sentences, not names."""
_LABEL = re.compile(r"^\s*(?:skill\s+)?name\s*:\s*", re.I)
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


def name_from_answer(text: str) -> str:
    """A skill name from a model's answer to "name this skill", or ``""`` when it is no short noun phrase.

    The answer's first line, without markdown, quotes and a "Name:" label, is a name only when it has
    1 to `MAX_NAME_WORDS` words, at least one of them a word of letters, no sentence punctuation, and
    does not start as a sentence does (a pronoun, an article, an auxiliary). Small models often answer
    with a sentence about the skill; the caller then names the skill from its tasks instead.

    >>> name_from_answer('"Two-digit subtraction"'), name_from_answer("Sure! Here is a name: Adding"), name_from_answer("42")
    ('two-digit-subtraction', '', '')
    """
    first = next((line for line in text.strip().splitlines() if line.strip()), "")
    phrase = _LABEL.sub("", first.replace("*", "").replace("#", "")).strip().strip("\"'`").strip()
    words = phrase.split()
    sentence = bool(re.search(r"[.!?:;,]", phrase.rstrip(".")))
    if not 1 <= len(words) <= MAX_NAME_WORDS or sentence or words[0].lower().strip("\"'") in _NOT_A_NAME:
        return ""
    return slugify(phrase) if re.search(r"[a-z]{3}", phrase.lower()) else ""


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
