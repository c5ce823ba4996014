"""`coachgraph tutor`: an interactive, resumable tutoring session in the terminal, its sessions,
history and checkpoints, BKT fitting, and `coachgraph bench tutor`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from platformdirs import user_data_dir
from rich.table import Table
from rich.text import Text

from coachgraph.agents import ModelLearner, ParametricLearner, sample_learner
from coachgraph.agents.context import shared_chat_model
from coachgraph.cli._console import console, reports_errors
from coachgraph.cli.bench import app as bench_app
from coachgraph.errors import InputError
from coachgraph.graphs.runs import check_graph_db, is_postgres
from coachgraph.graphs.tutor import TutorContext
from coachgraph.graphs.tutor.benchmark import (
    TutorBenchConfig,
    bench_markdown,
    leak_report,
    run_tutor_bench,
)
from coachgraph.graphs.tutor.learners import check_name
from coachgraph.graphs.tutor.nodes import check_targets
from coachgraph.graphs.tutor.session import DATABASE, SessionView, TutorSessions
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import load_domain
from coachgraph.types import Task

__all__ = ["app", "check_tutor_db", "register", "tutor_sessions"]

DB_ENV = "COACHGRAPH_TUTOR_DB"
"""Environment variable naming the sessions' location when ``--db`` is not given."""

app = typer.Typer(help="A resumable tutor: sessions, history, checkpoints, fitted learner models.",
                  invoke_without_command=True)

DbOpt = Annotated[str | None, typer.Option("--db", help=f"SQLite file or postgresql:// DSN (default: ${DB_ENV}, "
                                                        "else tutor.sqlite in the user data folder).")]
LearnerOpt = Annotated[str | None, typer.Option("--learner", help="The learner's name.")]
HELP = "answer with a number (show your work if you like); /hint, /solution, /plan, /mastery, /history, " \
       "/end (finish the session), /quit or Ctrl-C (leave; resume later)"


def _db(db: str | None) -> str:
    location = db or os.environ.get(DB_ENV)
    if location:
        return location
    folder = Path(user_data_dir("coachgraph"))
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "tutor.sqlite")


def _library(folder: Path | None, db: str) -> SkillLibrary:
    """The given library, else one beside the sessions with the starter skills."""
    root = folder or (Path(user_data_dir("coachgraph")) / "tutor-skills" if is_postgres(db) else Path(db).parent / "skills")
    library = SkillLibrary(root, embeddings=None)
    if not library.names():
        install_starter(library)
    return library


def _context(domain: str, model: str | None, library: SkillLibrary, seed: int) -> TutorContext:
    return TutorContext(domain=load_domain(domain), library=library, seed=seed,
                        teacher_model=shared_chat_model(model) if model else None)


def check_tutor_db(db: str, domain: str) -> None:
    """Refuse a location that is not the tutor's, or a domain that cannot be read; creates nothing."""
    check_graph_db(db, create=True, what=DATABASE)
    load_domain(domain)


def tutor_sessions(db: str, domain: str, model: str | None, library: Path | None, seed: int = 0) -> TutorSessions:
    """Sessions at `db` with the tutor's context (what `coachgraph serve --tutor-db` serves)."""
    lib = _library(library, db)
    return TutorSessions(db, _context(domain, model, lib, seed), domain_spec=domain)


def _say(text: str) -> None:
    console.print(Text(text), end="", soft_wrap=True)
    console.file.flush()


def _mastery_table(view: SessionView) -> Table:
    """Mastery of the skills on the plan and of the targets, with where each stands."""
    table = Table(caption=f"plan: {view.plan.get('reason', '')}", caption_justify="left")
    table.add_column("skill")
    table.add_column("mastery", justify="right")
    table.add_column("")
    table.add_column("status")
    order = list(dict.fromkeys([*(view.plan.get("order") or []), *view.targets]))
    for skill in order:
        value = view.mastery.get(skill, 0.0)
        status = "next" if skill == view.plan.get("next") else ("mastered" if skill in view.mastered else
                                                                "target" if skill in view.targets else "on the path")
        table.add_row(skill, f"{value:.2f}", "█" * round(value * 10) + "·" * (10 - round(value * 10)), status)
    return table


def _history(view: SessionView) -> None:
    for entry in view.transcript:
        who = "tutor" if entry["role"] == "tutor" else "you"
        console.print(Text.assemble((f"[{entry['turn']}] {who}: ", "bold"), str(entry["text"])), soft_wrap=True)


def _header(view: SessionView, db: str, resumed: bool) -> None:
    verb = "Resumed" if resumed else "Started"
    console.print(Text(f"{verb} session {view.session_id} of {view.learner} (turn {view.turn}). Leave any time with "
                       f"Ctrl-C; resume with: coachgraph tutor --learner {view.learner} --session {view.session_id} "
                       f"--db {db}", style="dim"), soft_wrap=True)


def _open(sessions: TutorSessions, learner: str, session: str | None, targets: list[str], db: str) -> SessionView:
    if session and sessions.exists(session):
        view = sessions.resume(session, emit=_say)
        if view.learner != learner:
            raise InputError(f"session {session} belongs to {view.learner}, not {learner}", source="--session")
        _header(view, db, resumed=True)
        _history(view)
        console.print(_mastery_table(view))
        return view
    console.print(Text(f"Starting a session for {learner}…", style="dim"))
    view = sessions.start(learner, targets, session=session, emit=_say)
    console.print()
    _header(view, db, resumed=False)
    console.print(_mastery_table(view))
    return view


def _command(text: str, view: SessionView) -> bool:
    """Handle a display command; True when `text` was one."""
    shown = {"/plan": lambda: console.print(_mastery_table(view)), "/mastery": lambda: console.print(_mastery_table(view)),
             "/history": lambda: _history(view), "/help": lambda: console.print(HELP, markup=False)}
    action = shown.get(text.strip().lower())
    if action is not None:
        action()
    return action is not None


def _reply(sessions: TutorSessions, view: SessionView, text: str) -> SessionView:
    before = view.plan.get("next")
    view = sessions.reply(view.session_id, text, emit=_say)
    console.print()
    if view.plan.get("next") != before or view.status == "ended":
        console.print(_mastery_table(view))
    elif view.skill:
        console.print(Text(f"  {view.skill}: mastery {view.mastery.get(view.skill, 0.0):.2f}", style="dim"))
    return view


def _interactive(sessions: TutorSessions, view: SessionView) -> None:
    console.print(HELP, style="dim", markup=False)
    while view.status != "ended":
        text = console.input("[bold cyan]you>[/] ")
        if text.strip().lower() in ("/quit", "/exit", "/q"):
            break
        if not text.strip() or _command(text, view):
            continue
        view = _reply(sessions, view, text)


def _simulated(sessions: TutorSessions, view: SessionView, spec: str, turns: int, seed: int) -> None:
    """Let a simulated learner answer: ``param`` (a parametric learner) or a chat model spec."""
    domain = sessions.context.domain
    learner = sample_learner(domain.prerequisites, seed=seed) if spec == "param" else ModelLearner(shared_chat_model(spec), seed=seed)
    for _ in range(turns):
        if view.status == "ended":
            return
        problem = sessions.graph.get_state({"configurable": {"thread_id": view.session_id}}).values.get("problem")
        text = learner.reply(view.message, Task.model_validate(problem) if problem else None)
        console.print(Text(f"learner> {text}", style="bold cyan"), soft_wrap=True)
        if isinstance(learner, ParametricLearner) and problem:
            learner.practise(problem["skill"])
        view = _reply(sessions, view, text)


def _saved(view: SessionView | None, db: str) -> None:
    console.print()
    if view is not None:
        console.print(Text(f"Session {view.session_id} is saved. Resume: coachgraph tutor --learner {view.learner} "
                           f"--session {view.session_id} --db {db}", style="bold"), soft_wrap=True)


@app.callback()
@reports_errors
def tutor(
    ctx: typer.Context,
    learner: LearnerOpt = None,
    session: Annotated[str | None, typer.Option("--session", help="Resume this session (or start it with this id).")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="arithmetic or jsonl:PATH (default: the session's, "
                                                                 "else arithmetic).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Teacher model spec for hints and explanations "
                                                              "(default: templates).")] = None,
    target: Annotated[list[str] | None, typer.Option("--target", help="A target skill (repeat; default: the skills "
                                                                      "nothing builds on).")] = None,
    db: DbOpt = None,
    library: Annotated[Path | None, typer.Option("--library", help="Skill library folder (default: starter skills "
                                                                   "beside the sessions).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of problem draws and model samples.")] = 0,
    simulate: Annotated[str | None, typer.Option("--simulate", help="Let a simulated learner answer: 'param' or a "
                                                                    "chat model spec.")] = None,
    turns: Annotated[int, typer.Option(min=1, max=100_000, help="Turns the simulated learner plays.")] = 10,
) -> None:
    """Work with the tutor: streams its words, shows the plan and the mastery per skill, and keeps
    every turn, so that quitting (or Ctrl-C, or a kill) loses nothing."""
    if ctx.invoked_subcommand is not None:
        return
    if not learner:
        raise InputError("give --learner NAME (see coachgraph tutor --help)", source="--learner")
    location = _checked_start(learner, session, domain, target, db)
    lib = _library(library, location)
    view: SessionView | None = None
    with TutorSessions(location, TutorContext(library=lib), domain_spec=domain or "arithmetic") as sessions:
        record = sessions.session_record(learner, session) if session else None
        spec = domain or (record or {}).get("domain_spec") or "arithmetic"
        if record and domain and domain != record.get("domain_spec"):
            raise InputError(f"session {session} uses domain {record.get('domain_spec')!r}", source="--domain")
        sessions.context, sessions.domain_spec = _context(spec, model, lib, seed), spec
        try:
            view = _open(sessions, learner, session, list(target or []), location)
            if simulate:
                _simulated(sessions, view, simulate, turns, seed)
            else:
                _interactive(sessions, view)
        except (KeyboardInterrupt, EOFError):
            view = view or (sessions.view(session) if session and sessions.exists(session) else None)
        _saved(view, location)


def _checked_start(learner: str, session: str | None, domain: str | None, targets: list[str] | None,
                   db: str | None) -> str:
    """The sessions' location, once every argument is known good: nothing is created before."""
    check_name(learner, "--learner")
    if session is not None:
        check_name(session, "--session")
    location = _db(db)
    check_graph_db(location, create=True, what=DATABASE)
    if domain is not None or session is None:
        check_targets(list(targets or []), load_domain(domain or "arithmetic"))
    if not is_postgres(location):
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    return location


@app.command("sessions")
@reports_errors
def sessions_command(learner: Annotated[str, typer.Option("--learner", help="The learner's name.")], db: DbOpt = None) -> None:
    """The learner's sessions and their mastery per skill."""
    with TutorSessions(_db(db), TutorContext(), create=False) as sessions:
        table = Table("session", "domain", "targets", "status", "turns")
        for s in sessions.sessions(learner):
            table.add_row(s["session_id"], str(s.get("domain_spec", s.get("domain"))), ", ".join(s.get("targets", [])),
                          str(s.get("status")), str(s.get("turns", 0)))
        console.print(table)
        model = sessions.learner(learner)["model"]
        if model:
            console.print(Text("mastery: " + ", ".join(f"{k} {v['mastery']:.2f}" for k, v in model["skills"].items()
                                                       if v["answers"]), style="dim"), soft_wrap=True)


@app.command("history")
@reports_errors
def history_command(session: Annotated[str, typer.Option("--session", help="The session.")], db: DbOpt = None,
                    checkpoints: Annotated[bool, typer.Option("--checkpoints", help="List its checkpoints too.")] = False) -> None:
    """Everything the session's tutor and learner said, and optionally its saved checkpoints."""
    with TutorSessions(_db(db), TutorContext(), create=False) as sessions:
        _history(sessions.view(session))
        if checkpoints:
            table = Table("checkpoint", "step", "next", "saved at")
            for c in sessions.checkpoints(session):
                table.add_row(c["checkpoint_id"], str(c["step"]), ", ".join(c["next"]), str(c["created_at"]))
            console.print(table)


@app.command("prune")
@reports_errors
def prune_command(session: Annotated[list[str] | None, typer.Option("--session", help="Prune these (repeat; "
                                                                                      "default: every session).")] = None,
                  db: DbOpt = None) -> None:
    """Keep only the latest checkpoint of sessions (transcripts and learner models stay)."""
    with TutorSessions(_db(db), TutorContext(), create=False) as sessions:
        for name, (before, after) in sessions.prune(session).items():
            console.print(f"{name}: {before} -> {after} checkpoints", markup=False, highlight=False)


@app.command("fit")
@reports_errors
def fit_command(db: DbOpt = None, domain: Annotated[str, typer.Option("--domain", help="Domain spec.")] = "arithmetic",
                min_answers: Annotated[int, typer.Option("--min-answers", min=1, help="Fewest answers a skill needs.")] = 50) -> None:
    """Fit each skill's BKT parameters to every learner's history; new learner models start from them."""
    with TutorSessions(_db(db), TutorContext(domain=load_domain(domain)), create=False) as sessions:
        fitted = sessions.fit(min_answers)
    table = Table("skill", "answers", "fitted", "prior", "learn", "guess", "slip")
    for skill, f in fitted.items():
        p = f["params"]
        table.add_row(skill, str(f["answers"]), "yes" if f["fitted"] else "default",
                      *(f"{p[k]:.3f}" for k in ("prior", "learn", "guess", "slip")))
    console.print(table)


def bench_tutor(
    learners: Annotated[int, typer.Option(min=2, max=100_000, help="Learners each policy teaches.")] = 200,
    fit_learners: Annotated[int, typer.Option("--fit-learners", min=1, max=100_000,
                                              help="Learners whose sessions BKT is fitted to.")] = 200,
    turns: Annotated[int, typer.Option(min=1, max=100_000, help="Turn budget per session.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the populations.")] = 0,
    model: Annotated[str | None, typer.Option("--model", help="Teacher model whose hints are checked for leaks "
                                                              "(e.g. smollm2).")] = None,
    leak_messages: Annotated[int, typer.Option("--leak-messages", min=1, max=100_000,
                                               help="Messages the teacher model writes.")] = 60,
    threads: Annotated[int, typer.Option("--threads", min=1, max=256, help="torch threads of the teacher model "
                                                                           "(1 suits a small model on a busy machine).")] = 1,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
) -> None:
    """The tutor's planner against a fixed syllabus and random practice on the same simulated learners."""
    domain = load_domain("arithmetic")
    torch.set_num_threads(threads)
    teacher = shared_chat_model(model) if model else None  # a bad spec fails before the simulations
    result: dict[str, Any] = run_tutor_bench(domain, TutorBenchConfig(learners=learners, fit_learners=fit_learners,
                                                                      turns=turns, seed=seed))
    if teacher is not None:
        result["leaks"] = leak_report(teacher, domain, messages=leak_messages, seed=seed)
    console.print(bench_markdown(result), markup=False, highlight=False, soft_wrap=True)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")


def register(app_: typer.Typer) -> None:
    """Add `tutor` to the main application and `tutor` to `bench`."""
    app_.add_typer(app, name="tutor")
    bench_app.command("tutor")(reports_errors(bench_tutor))
