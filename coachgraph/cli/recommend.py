"""`coachgraph recommend`, `coachgraph serve` and `coachgraph bench recommend`."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import torch
import typer
from rich import box
from rich.table import Table
from rich.text import Text
from threadpoolctl import threadpool_limits

from coachgraph.calltree.ingest import FORMATS, ingest
from coachgraph.calltree.render import ellipsis
from coachgraph.calltree.stores import open_store
from coachgraph.cli._console import console, err_console, reports_errors, warn
from coachgraph.cli._options import comma_list
from coachgraph.cli._progress import progress_bars
from coachgraph.cli.bench import app as bench_app
from coachgraph.config import Settings
from coachgraph.errors import ConfigError, InputError
from coachgraph.graphs.runs import is_postgres
from coachgraph.recommend.baselines import LEARNED, METHODS
from coachgraph.recommend.checkpoint import model_dir, model_file, read_info
from coachgraph.recommend.evaluate import markdown_table, run_benchmark
from coachgraph.recommend.fingerprint import compare, store_fingerprint
from coachgraph.recommend.recommender import Recommendation, RecommenderConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.train import ScorerTrainConfig
from coachgraph.recommend.trainer import StalePolicy, ensure_model, retrain_hint, train_store
from coachgraph.server.keys import API_KEY_ENV, API_KEY_FILE_ENV, resolve_api_key

__all__ = ["app", "register"]

app = typer.Typer(help="Recommend the next agent/tool or a small team, learned from calling trees.",
                  no_args_is_help=True)

StoreOpt = Annotated[str, typer.Option("--store", help="SQLite file or postgresql:// DSN (read only).")]
IfStaleOpt = Annotated[StalePolicy, typer.Option(
    "--if-stale", case_sensitive=False,
    help="When the store changed since the model was trained (or the model is from an older release): "
         "retrain first (with progress), warn and answer from the old model, or refuse.")]


def _single_threaded() -> None:
    """One thread for torch and for numpy's BLAS in this process (what serving and training want):
    per-query work and training batches are small, and a thread pool on shared cores costs more in
    wake-ups than it saves."""
    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def _service(store: str, if_stale: StalePolicy) -> RecommendService:
    """The store's model, trained first where `if_stale` says so (with progress bars), loaded to serve."""
    _single_threaded()  # before any training: small batches, shared cores
    settings = Settings.from_env()
    with progress_bars() as progress:
        freshness = ensure_model(store, settings, if_stale=if_stale, progress=progress)
    if not freshness.fresh:
        err_console.print(f"warning: {freshness.describe()}; answering from the model as trained "
                          f"({retrain_hint(store)}, or pass --if-stale retrain)", markup=False, highlight=False,
                          soft_wrap=True)
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


def _existing_store(store: str) -> None:
    """Refuse a store that is missing or not ours before any model is loaded."""
    with open_store(store, read_only=True):
        pass


@app.command("train")
@reports_errors
def train_command(store: StoreOpt, seed: Annotated[int, typer.Option(help="Seed of the weights.")] = 0) -> None:
    """Train the recommender on every trace of the store and save it beside the store."""
    _existing_store(store)
    _single_threaded()
    with progress_bars() as progress:
        info = train_store(store, Settings.from_env(), seed=seed, progress=progress)
    console.print(f"trained on {info.trained_on.traces} traces; saved to {info.path}", highlight=False, markup=False)


@app.command("status")
@reports_errors
def status_command(store: StoreOpt) -> None:
    """Show the store's trained model and whether the store changed since it was trained."""
    _existing_store(store)
    settings = Settings.from_env()
    info = read_info(model_file(store, settings.cache), settings.default_embeddings)
    with open_store(store, read_only=True) as opened:
        freshness = compare(info.trained_on, store_fingerprint(opened))
    table = Table(box=box.SIMPLE, show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for field, value in (("model", str(info.path)), ("trained", info.created),
                         ("release", info.coachgraph_version), ("embeddings", info.embeddings),
                         ("architecture", ", ".join(info.archs)), ("trained on", f"{info.trained_on.traces} traces"),
                         ("store now", f"{freshness.now} traces"), ("fresh", "yes" if freshness.fresh else "no")):
        table.add_row(field, Text(value))  # paths and names are text, never markup
    console.print(table)
    if not freshness.fresh:
        console.print(f"{freshness.describe()}; {retrain_hint(store)}", markup=False, highlight=False, soft_wrap=True)


@app.command("next")
@reports_errors
def next_command(
    store: StoreOpt,
    task: Annotated[str, typer.Option("--task", help="The task text.")],
    trace: Annotated[str | None, typer.Option("--trace", help="A stored trace to continue (see `calltree list`).")] = None,
    node: Annotated[str | None, typer.Option("--node", help="The calling node in that trace (see `calltree show`).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many to show.")] = 5,
    kind: Annotated[Literal["agent", "tool", "skill"] | None, typer.Option(
        "--kind", help="Only this kind (default: any).")] = None,
    if_stale: IfStaleOpt = StalePolicy.RETRAIN,
) -> None:
    """Rank the next agent/tool, with each feature group's contribution to the score."""
    if node is not None and trace is None:
        raise InputError("--node needs --trace (the trace the node belongs to)", source="--node")
    _existing_store(store)
    ranked = _service(store, if_stale).next(task=task, trace_id=trace, node_id=node, k=k, kind=kind)
    console.print(_ranking_table(f"next agent/tool for: {ellipsis(task, 60)}", ranked))


@app.command("team")
@reports_errors
def team_command(
    store: StoreOpt,
    task: Annotated[str, typer.Option("--task", help="The task text.")],
    max_size: Annotated[int, typer.Option("--max-size", min=1, max=12, help="Largest team.")] = 4,
    if_stale: IfStaleOpt = StalePolicy.RETRAIN,
) -> None:
    """Recommend a team for the task (its size learned, at most --max-size) and who calls whom in it."""
    _existing_store(store)
    team = _service(store, if_stale).team(task=task, max_size=max_size)
    console.print(f"team of {len(team.nodes)} (score {team.score:.2f}, connected: {team.connected})", highlight=False, markup=False)
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
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free one).")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    api_key_file: Annotated[Path | None, typer.Option(
        "--api-key-file", envvar=API_KEY_FILE_ENV, help="File holding the bearer key every request needs.")] = None,
    api_key: Annotated[str | None, typer.Option(
        "--api-key", help=f"The key itself: every user of the machine sees it in `ps`; prefer {API_KEY_ENV} "
                          "or --api-key-file.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Server processes (one per core).")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="One line per request on stderr.")] = True,
    if_stale: IfStaleOpt = StalePolicy.RETRAIN,
    tutor_db: Annotated[str | None, typer.Option("--tutor-db", help="Also serve the tutor (page at /tutor) with its "
                                                                    "sessions here: SQLite file or DSN.")] = None,
    tutor_domain: Annotated[str, typer.Option("--tutor-domain", help="The tutor's task domain.")] = "arithmetic",
    tutor_model: Annotated[str | None, typer.Option("--tutor-model", help="The tutor's teacher model spec.")] = None,
    tutor_library: Annotated[Path | None, typer.Option("--tutor-library", help="The tutor's skill library.")] = None,
) -> None:
    """Serve the recommender over HTTP (FastAPI; OpenAPI schema at /docs, behind the key), and
    the tutor (page at /tutor, API under /v1/tutor, behind the same key) with --tutor-db.

    A model retrained while the server runs (`coachgraph recommend train`) is picked up by every
    server process within seconds, or at once through POST /v1/admin/reload.

    The key comes from the environment variable COACHGRAPH_API_KEY or from --api-key-file.
    """
    from coachgraph.server.app import STORE_ENV, create_app
    from coachgraph.server.run import bind, serve

    if tutor_db is not None:
        from coachgraph.cli.tutor import check_tutor_db

        if workers != 1:
            raise InputError("the tutor is served by one process: drop --workers or --tutor-db", source="--workers")
        check_tutor_db(tutor_db, tutor_domain)
    key = resolve_api_key(api_key, api_key_file, os.environ.get(API_KEY_ENV), warn)
    if key is None and host not in ("127.0.0.1", "localhost", "::1"):
        warn(f"serving on {host} without an API key: anyone who reaches it can query the store")
    _existing_store(store)
    sock = bind(host, port)
    service = _service(store, if_stale)  # trains here when needed, so that workers only load it

    def announce(url: str) -> None:
        guard = "API key required" if key else "no API key"
        console.print(f"serving {store} at {url} ({len(service.recommender.catalog)} agents and tools; "
                      f"{guard}; OpenAPI docs at {url}/docs)")
        if tutor_db is not None:
            console.print(f"the tutor's page: {url}/tutor", markup=False, highlight=False)

    if tutor_db is not None:
        from coachgraph.cli.tutor import tutor_sessions

        if not is_postgres(tutor_db):
            Path(tutor_db).parent.mkdir(parents=True, exist_ok=True)
        with tutor_sessions(tutor_db, tutor_domain, tutor_model, tutor_library) as sessions:
            serve(create_app(store, api_key=key, service=service, tutor=sessions), sock, access_log=access_log,
                  on_listening=announce)
        return
    if workers == 1:
        app = create_app(store, api_key=key, service=service)
        serve(app, sock, access_log=access_log, on_listening=announce)
        return
    os.environ[STORE_ENV], os.environ[API_KEY_ENV] = store, key or ""
    serve("coachgraph.server.app:app_from_env", sock, workers=workers, access_log=access_log,
          on_listening=announce)


@bench_app.command("recommend")
@reports_errors
def bench_recommend(
    inputs: Annotated[list[Path] | None, typer.Argument(help="Trace files or folders to ingest.")] = None,
    format_name: Annotated[str | None, typer.Option("--format", help=f"One of: {', '.join(sorted(FORMATS))}.")] = None,
    store: Annotated[str | None, typer.Option("--store", help="An already ingested store.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Markdown table (default: beside --json).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and the models.")] = 0,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs of the learned methods.")] = 12,
    methods: Annotated[str | None, typer.Option(help="Agent-level methods, comma-separated (default: all); "
                                                     f"{LEARNED} always runs, the system level needs it.")] = None,
    folds: Annotated[int, typer.Option(min=1, help="1: one 80/20 split; K: K folds, each trace tested once "
                                                   "and every figure over all of them (K times the training).")] = 1,
) -> None:
    """Every recommender method on the same held-out traces (an 80/20 split or K folds): agent and system level."""
    _single_threaded()  # latency is measured as served; training batches are small
    chosen = _methods(methods)
    with tempfile.TemporaryDirectory() as scratch:
        location = store or _ingested(inputs or [], format_name, Path(scratch) / "bench.sqlite")
        with open_store(location, read_only=store is not None) as opened:
            from coachgraph.models import load_embeddings

            settings = Settings.from_env()
            config = RecommenderConfig(train=ScorerTrainConfig(epochs=epochs, seed=seed), seed=seed)
            result = run_benchmark(opened, load_embeddings(settings.default_embeddings), config, seed,
                                   model_dir(location, settings.cache), chosen, folds)
    table = markdown_table(result)
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        (markdown or json_out.with_suffix(".md")).write_text(table, encoding="utf-8")
    elif markdown is not None:
        markdown.write_text(table, encoding="utf-8")


def _methods(spec: str | None) -> list[str] | None:
    """The agent-level methods `--methods` names, `coach` among them; None for all."""
    if spec is None:
        return None
    names = comma_list(spec)
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
