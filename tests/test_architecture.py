"""The package's architecture rules, checked on the source: layers import only the layers below
them (ARCHITECTURE.md), and no module grows past 800 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "coachgraph"

LAYERS = [
    {"types", "errors", "config"},
    {"models"},
    {"retrieval"},
    {"calltree"},
    {"skills"},
    {"recommend"},
    {"curriculum"},
    {"tasks"},
    {"agents"},
    {"graphs"},
    {"cli", "server"},
]
"""From the bottom up; a module may import its own layer and any layer below it."""


def _layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def _top_part(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def _imported_parts(path: Path) -> set[str]:
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "coachgraph" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    own = _layer(_top_part(path))
    upward = {p for p in _imported_parts(path) if _layer(p) > own}
    assert not upward, f"{path.relative_to(PACKAGE)} imports higher layers: {sorted(upward)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= 800, f"{path.relative_to(PACKAGE)} has {lines} lines (split it)"
