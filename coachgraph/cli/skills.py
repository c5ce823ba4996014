"""The `coachgraph skills` group and the `coachgraph bench skills` benchmark."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer
from langchain_core.embeddings import Embeddings
from rich.table import Table

from coachgraph.calltree.render import ellipsis
from coachgraph.cli._console import (
    console,
    counting,
    err_console,
    one_line,
    reports_errors,
    styled,
    working,
)
from coachgraph.cli.bench import app as bench_app
from coachgraph.errors import ConfigError, InputError
from coachgraph.skills import SkillLibrary, import_skills, read_skill
from coachgraph.skills.benchmark import run_benchmark
from coachgraph.skills.model import SkillKind
from coachgraph.skills.spec import folder_problems

__all__ = ["app", "register"]

app = typer.Typer(help="Agent Skills library: list, show, add, validate, search, import.", no_args_is_help=True)

LIBRARY = typer.Option(Path("skills"), "--library", "-l", help="Library folder.")
JSON_OUT = typer.Option(..., "--json", help="Where to write the results.")
CORPORA = typer.Option(Path("../shared/data/corpora"), "--corpora", help="Corpora folder.")
KIND = typer.Option(None, help="Only this kind.")
EMBEDDINGS = typer.Option("minilm-int8", "--embeddings", help="Embedding spec for dense search (the int8 MiniLM by default: it keeps search interactive), or 'none' for BM25 only.")


def register(root: typer.Typer) -> None:
    """Add the `skills` group to the root command."""
    root.add_typer(app, name="skills")


def _embeddings(spec: str) -> Embeddings | None:
    if spec == "none":
        return None
    try:
        from coachgraph.models.embeddings import load_embeddings
    except ImportError as exc:
        raise ConfigError(f"embeddings {spec!r} are not available ({exc}); use --embeddings none") from None
    return load_embeddings(spec)


def _existing(library: Path) -> SkillLibrary:
    """The library at `library` for a command that only reads it: a mistyped folder is refused,
    never created."""
    if not library.is_dir():
        raise InputError("no skill library here (the folder does not exist); check --library, or "
                         "create one with `coachgraph skills add` or `skills import`", source=str(library))
    return SkillLibrary(library)


@app.command("list")
@reports_errors
def list_skills(library: Path = LIBRARY, kind: SkillKind | None = KIND) -> None:
    """List skills with kind, version and description."""
    table = Table("name", "kind", "version", "description")
    for skill in _existing(library).list(kind):
        table.add_row(skill.name, skill.kind.value, str(skill.version), ellipsis(skill.description, 80))
    console.print(table)


@app.command("show")
@reports_errors
def show(name: str, library: Path = LIBRARY,
         version: int | None = typer.Option(None, min=1, help="An earlier version.")) -> None:
    """Print one skill's description and body, and its kept versions."""
    lib = _existing(library)
    skill = lib.get(name, version)
    console.print(styled((skill.name, "bold"), f" v{skill.version} ({skill.kind.value}); "
                         f"versions kept: {lib.versions(name)}"))
    console.print(skill.description)
    console.print(lib.render(name) if version is None else skill.body)


@app.command("add")
@reports_errors
def add(folder: Path, library: Path = LIBRARY, embeddings: str = EMBEDDINGS, revise: bool = typer.Option(False, help="Store as a new version of an existing skill.")) -> None:
    """Validate a skill folder and add it (or a new version of it) to the library."""
    skill = read_skill(folder)
    lib = SkillLibrary(library, _embeddings(embeddings))
    stored = lib.revise(skill) if revise else lib.add(skill)
    console.print(f"stored {stored.name} v{stored.version}")


@app.command("validate")
@reports_errors
def validate(folders: list[Path]) -> None:
    """Check skill folders against the Agent Skills spec; exit 1 when any is invalid."""
    bad = 0
    for folder in folders:
        problems = folder_problems(folder)
        bad += bool(problems)
        for problem in problems:
            err_console.print(styled(("invalid: ", "red"), one_line(problem)))
        if not problems:
            console.print(styled(("valid: ", "green"), str(folder)))
    if bad:
        raise typer.Exit(code=1)


@app.command("search")
@reports_errors
def search(query: str, library: Path = LIBRARY, embeddings: str = EMBEDDINGS,
           k: int = typer.Option(5, "-k", min=1, max=1000, help="How many to show.")) -> None:
    """Hybrid search over skill names and descriptions."""
    _existing(library)
    with working("loading the index (the first search embeds every skill)"):
        lib = SkillLibrary(library, _embeddings(embeddings))
        hits = lib.search(query, k)
    table = Table("score", "name", "description")
    for hit in hits:
        table.add_row(f"{hit.score:.3f}", hit.id, ellipsis(lib.get(hit.id).description, 80))
    console.print(table)


@app.command("import")
@reports_errors
def import_dir(folder: Path, library: Path = LIBRARY, embeddings: str = EMBEDDINGS, overwrite: bool = False) -> None:
    """Import skills from FOLDER's .claude/skills/ and .agents/skills/ (or FOLDER itself)."""
    if not folder.is_dir():
        raise InputError("not a folder; give a project or skills folder to import from", source=str(folder))
    with working(f"loading embeddings {embeddings}"):
        lib = SkillLibrary(library, _embeddings(embeddings))
    with counting("importing skills", 0) as advance:
        report = import_skills(lib, folder, overwrite, progress=advance)
    for error in report.rejected:
        err_console.print(styled(("skipped: ", "yellow"), one_line(error)))
    console.print(f"imported {len(report.imported)}: {' '.join(report.imported)}")


@bench_app.command("skills")
@reports_errors
def bench_skills(
    json_out: Path = JSON_OUT,
    corpora: Path = CORPORA,
    embeddings: str = EMBEDDINGS,
    seed: int = 0,
) -> None:
    """Seal-Tools skill retrieval: Recall@5 and nDCG@5 for dense, BM25 and fused; search p50."""
    emb = _embeddings(embeddings)
    if emb is None:
        raise ConfigError("the benchmark needs embeddings")
    with tempfile.TemporaryDirectory() as work:
        results = run_benchmark(corpora, emb, Path(work), seed, progress=lambda m: err_console.print(m))
    json_out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    table = Table("split", "method", "recall@5", "ndcg@5")
    for split, methods in results["splits"].items():
        for method, scores in methods.items():
            table.add_row(split, method, f"{scores['recall@5']:.2f}", f"{scores['ndcg@5']:.2f}")
    console.print(table)
    console.print(f"latency at {int(results['latency_ms']['skills'])} skills (ms, p50): {results['latency_ms']}")
