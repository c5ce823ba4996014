"""The package's architecture rules, checked on the source (ARCHITECTURE.md): layers import only
the layers below them, no module imports a private name of another package, each graph lives in
a package of its own, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "coachgraph"

LAYERS = [
    {"types", "errors", "config", "seeding", "prompts"},
    {"models"},
    {"retrieval"},
    {"calltree"},
    {"skills"},
    {"recommend"},
    {"curriculum"},
    {"tasks"},
    {"agents"},
    {"graphs"},
    {"demo"},
    {"cli", "server"},
]
"""From the bottom up; a module may import its own layer and any layer below it."""

MAX_LINES = 400


def _layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def _top_part(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of a `coachgraph` module in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coachgraph"):
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("coachgraph")]
    return found


def _package_of(path: Path) -> tuple[str, ...]:
    return ("coachgraph", *path.relative_to(PACKAGE).parent.parts)


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    own = _layer(_top_part(path))
    parts = {module.split(".")[1] for module, _ in _imports(path) if module.count(".")}
    upward = {p for p in parts if _layer(p) > own}
    assert not upward, f"{path.relative_to(PACKAGE)} imports higher layers: {sorted(upward)}"


def _private_home(module: str, names: list[str]) -> tuple[str, ...] | None:
    """The package a private import belongs to, or None when the import is public.

    A private module (``pkg._mod``) belongs to its package; a private name belongs to the package
    of the module that defines it.
    """
    pieces = tuple(module.split("."))
    private_at = next((i for i, piece in enumerate(pieces) if piece.startswith("_")), None)
    if private_at is not None:
        return pieces[:private_at]
    if any(name.startswith("_") for name in names):
        return pieces if (PACKAGE.parent / Path(*pieces)).is_dir() else pieces[:-1]
    return None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_of_another_package(path: Path) -> None:
    own = _package_of(path)
    for module, names in _imports(path):
        home = _private_home(module, names)
        assert home is None or own[:len(home)] == home, \
            f"{path.relative_to(PACKAGE)} imports a private name of {module} from outside {'.'.join(home)}"


def _builds_a_graph(path: Path) -> bool:
    return any(isinstance(node, ast.Call) and getattr(node.func, "id", None) == "StateGraph"
               for node in ast.walk(ast.parse(path.read_text())))


def _defines_a_graph(path: Path) -> bool:
    """Whether the module holds a compiled graph of its own (a module-level `graph`)."""
    return any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "graph" for t in node.targets)
               for node in ast.parse(path.read_text()).body)


def test_each_graph_lives_in_its_own_package() -> None:
    """The package's graphs are built in `graphs/<name>/`, one per package, each registered;
    elsewhere a module may only offer a factory for a user's graph (a recommended team)."""
    from coachgraph.graphs import GRAPHS

    builders = [p.relative_to(PACKAGE) for p in MODULES if _builds_a_graph(p)]
    for module in builders:
        if module.parts[0] != "graphs":
            assert not _defines_a_graph(PACKAGE / module), f"{module} holds a graph outside graphs/<name>/"
    builders = [m for m in builders if m.parts[0] == "graphs"]
    for module in builders:
        assert len(module.parts) == 3, f"{module} builds a graph outside a graph package"
    packages = [m.parts[1] for m in builders]
    assert len(packages) == len(set(packages)), f"a package builds more than one graph: {builders}"
    for name, entry in GRAPHS.items():
        assert entry.module.split(".")[:3] == ["coachgraph", "graphs", name], f"{name} is served from {entry.module}"
    assert set(GRAPHS) == set(packages), "every graph package is registered, and only those"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines < MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines (split it)"
