"""`coachgraph recommend`, `coachgraph serve` and `coachgraph bench recommend`."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import torch
import typer
from rich import box
from rich.table import Table
from threadpoolctl import threadpool_limits

from coachgraph.calltree.ingest import FORMATS, ingest
from coachgraph.calltree.stores import open_store
from coachgraph.cli._console import console, reports_errors
from coachgraph.cli.bench import app as bench_app
from coachgraph.config import Settings
from coachgraph.errors import ConfigError, InputError
from coachgraph.recommend.baselines import LEARNED, METHODS
from coachgraph.recommend.checkpoint import model_dir
from coachgraph.recommend.evaluate import markdown_table, run_benchmark
from coachgraph.recommend.recommender import Recommendation, RecommenderConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.train import ScorerTrainConfig
from coachgraph.recommend.trainer import ensure_model, train_store

__all__ = ["app", "register"]

app = typer.Typer(help="Recommend the next agent/tool or a small team, learned from calling trees.",
                  no_args_is_help=True)

StoreOpt = Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN.")]


def _single_threaded() -> None:
    """One thread for torch and for numpy's BLAS in this process (what serving and training want):
    per-query work and training batches are small, and a thread pool on shared cores costs more in
    wake-ups than it saves."""
    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def _service(store: str) -> RecommendService:
    """The store's model (trained first where it has none), loaded to serve."""
    _single_threaded()
    settings = Settings.from_env()
    ensure_model(store, settings)
    return RecommendService(store, settings)


def _ranking_table(title: str, ranked: list[Recommendation]) -> Table:
    """Ranked names with score, probability and each feature group's contribution, largest first."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right")
    table.add_column("name", overflow="fold", min_width=12)
    table.add_column("score", justify="right")
    table.add_column("p", justify="right")
    table.add_column("contribution of each feature group", overflow="fold", ratio=1)
    for i, r in enumerate(ranked, 1):
        parts = sorted(r.contributions.items(), key=lambda kv: -kv[1])
        table.add_row(str(i), r.name, f"{r.score:.2f}", f"{r.probability:.3f}",
                      "  ".join(f"{g}:{v:+.2f}" for g, v in parts))
    return table


@app.command("train")
@reports_errors
def train_command(store: StoreOpt, seed: Annotated[int, typer.Option(help="Seed of the weights.")] = 0) -> None:
    """Train the recommender on every trace of the store and save it beside the store."""
    _single_threaded()
    info = train_store(store, Settings.from_env(), seed=seed)
    console.print(f"trained on {info.traces} traces; saved to {info.path}", highlight=False, markup=False)


@app.command("next")
@reports_errors
def next_command(
    store: StoreOpt,
    task: Annotated[str, typer.Option("--task", help="The task text.")],
    trace: Annotated[str | None, typer.Option("--trace", help="A stored trace to continue.")] = None,
    node: Annotated[str | None, typer.Option("--node", help="The calling node in that trace.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many to show.")] = 5,
    kind: Annotated[str | None, typer.Option("--kind", help="Only agent, tool or skill (default: any).")] = None,
) -> None:
    """Rank the next agent/tool, with each feature group's contribution to the score."""
    if kind not in (None, "agent", "tool", "skill"):
        raise InputError(f"--kind must be agent, tool or skill, not {kind!r}", source="--kind")
    ranked = _service(store).next(task=task, trace_id=trace, node_id=node, k=k, kind=kind)
    console.print(_ranking_table(f"next agent/tool for: {task[:60]}", ranked))


@app.command("team")
@reports_errors
def team_command(
    store: StoreOpt,
    task: Annotated[str, typer.Option("--task", help="The task text.")],
    max_size: Annotated[int, typer.Option("--max-size", help="Largest team.")] = 4,
) -> None:
    """Recommend a team for the task (its size learned, at most --max-size) and who calls whom in it."""
    team = _service(store).team(task=task, max_size=max_size)
    console.print(f"team of {len(team.nodes)} (score {team.score:.2f}, connected: {team.connected})", highlight=False)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("member", overflow="fold")
    table.add_column("p", justify="right")
    table.add_column("contribution of each feature group", overflow="fold", ratio=1)
    for member in team.nodes:
        parts = sorted(member.contributions.items(), key=lambda kv: -kv[1])
        table.add_row(member.name, f"{member.probability:.3f}", "  ".join(f"{g}:{v:+.2f}" for g, v in parts))
    console.print(table)
    for edge in team.edges:
        console.print(f"  {edge.source} -> {edge.target} (p {edge.probability:.3f})", highlight=False, markup=False)


@reports_errors
def serve_command(
    store: StoreOpt,
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="COACHGRAPH_API_KEY",
                                                help="Bearer key required on every request.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes (one per core).")] = 1,
) -> None:
    """Serve the recommender over HTTP (FastAPI; OpenAPI schema at /docs)."""
    import uvicorn

    from coachgraph.server.app import API_KEY_ENV, STORE_ENV, create_app

    service = _service(store)  # trains here when needed, so that workers only load it
    options = {"host": host, "port": port, "log_level": "warning", "access_log": False}
    if workers == 1:
        uvicorn.run(create_app(store, api_key=api_key, service=service), **options)
        return
    os.environ[STORE_ENV], os.environ[API_KEY_ENV] = store, api_key or ""
    uvicorn.run("coachgraph.server.app:app_from_env", factory=True, workers=workers, **options)


@bench_app.command("recommend")
@reports_errors
def bench_recommend(
    inputs: Annotated[list[Path] | None, typer.Argument(help="Trace files or folders to ingest.")] = None,
    format_name: Annotated[str | None, typer.Option("--format", help=f"One of: {', '.join(sorted(FORMATS))}.")] = None,
    store: Annotated[str | None, typer.Option("--store", help="An already ingested store.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Markdown table (default: beside --json).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and the models.")] = 0,
    epochs: Annotated[int, typer.Option(help="Training epochs of the learned methods.")] = 12,
    methods: Annotated[str | None, typer.Option(help="Agent-level methods, comma-separated (default: all); "
                                                     f"{LEARNED} always runs, the system level needs it.")] = None,
) -> None:
    """Every recommender method on the same 80/20 trace split: agent and system level."""
    _single_threaded()  # latency is measured as served; training batches are small
    chosen = _methods(methods)
    with tempfile.TemporaryDirectory() as scratch:
        location = store or _ingested(inputs or [], format_name, Path(scratch) / "bench.sqlite")
        with open_store(location) as opened:
            from coachgraph.models import load_embeddings

            settings = Settings.from_env()
            config = RecommenderConfig(train=ScorerTrainConfig(epochs=epochs, seed=seed), seed=seed)
            result = run_benchmark(opened, load_embeddings(settings.default_embeddings), config, seed,
                                   model_dir(location, settings.cache), chosen)
    table = markdown_table(result)
    console.print(table, highlight=False, markup=False, soft_wrap=True)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        (markdown or json_out.with_suffix(".md")).write_text(table, encoding="utf-8")
    elif markdown is not None:
        markdown.write_text(table, encoding="utf-8")


def _methods(spec: str | None) -> list[str] | None:
    """The agent-level methods `--methods` names, `coach` among them; None for all."""
    if spec is None:
        return None
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise InputError(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}", source="--methods")
    return [*(n for n in METHODS if n in names and n != LEARNED), LEARNED]


def _ingested(inputs: list[Path], format_name: str | None, path: Path) -> str:
    if not inputs or format_name is None:
        raise InputError("give INPUT files with --format, or --store", source="bench recommend")
    if format_name not in FORMATS:
        raise ConfigError(f"unknown format {format_name!r}; known: {', '.join(sorted(FORMATS))}")
    with open_store(path) as opened:
        ingest(opened, format_name, inputs)
    return str(path)


def register(app_: typer.Typer) -> None:
    """Add the `recommend` group and `serve` to the main application (bench registers itself)."""
    app_.add_typer(app, name="recommend")
    app_.command("serve")(serve_command)
