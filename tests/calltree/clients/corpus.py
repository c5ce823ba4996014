"""A LangGraph supervisor program over a randomly drawn organisation, run on many varied tasks.

Where `program.py` runs three fixed tasks, this module draws, from a seed, an organisation of
specialist agents (each with its own tools; some grouped into sub-team subgraphs) and task
families. A family's task names what it needs in its own words: every family has core agents,
and optional agents that a task needs only when its text asks for them (a trigger phrase), in an
order of their own. Each run's scripted models follow the task's plan: the supervisor hands off
(`transfer_to_*` tools returning `Command(goto=..., graph=Command.PARENT)`) to each agent or
sub-team of the plan, each agent calls one or two of its tools, and a few tools fail (some
errors are handled by the agent, the rest end the run). Runs share sessions in pairs.

`record.py CLIENT OUT corpus:RUNS:SEED` records it with a real tracing client; `expected.json`
then holds each run's task, outcome and handoffs. The corpus is a test of recommenders on
multi-agent traces of a kind no reader or recommender of coachgraph was written against.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from langchain.agents import create_agent
from langchain.agents.middleware import wrap_tool_call
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command

from tests.fakes import ScriptedToolChatModel

__all__ = ["Organisation", "Run", "draw_organisation", "draw_runs", "run_corpus"]

ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "web_researcher": (("web_search", "fetch_page", "summarise_page"),
                       ("with sources from the web", "after some background research")),
    "data_analyst": (("run_sql", "plot_chart", "describe_table"), ("with charts of the figures", "from the sales database")),
    "python_coder": (("run_python", "run_tests", "lint_code"), ("with a script that automates it", "and fix the code")),
    "translator": (("detect_language", "translate_text"), ("translated into Spanish", "in Japanese as well")),
    "copywriter": (("draft_text", "check_grammar"), ("written up nicely", "as a polished email")),
    "fact_checker": (("check_claim", "find_source"), ("and double-check every claim", "with the facts verified")),
    "travel_agent": (("search_flights", "search_hotels", "book_trip"), ("including flights and a hotel", "with travel booked")),
    "accountant": (("convert_currency", "compute_tax", "build_budget"), ("within a budget", "with the tax worked out")),
    "legal_advisor": (("search_case_law", "review_contract"), ("and have the contract reviewed", "checking the legal risks")),
    "scheduler": (("find_slot", "create_event"), ("and book a meeting about it", "with a calendar slot")),
    "illustrator": (("generate_image", "resize_image"), ("with an illustration", "plus a cover image")),
    "support_agent": (("lookup_order", "issue_refund", "send_email"), ("and answer the customer", "refunding the order")),
    "statistician": (("fit_model", "test_hypothesis"), ("with a significance test", "and forecast the trend")),
    "geo_analyst": (("geocode", "route_map"), ("with a route map", "showing the locations")),
    "nutritionist": (("lookup_food", "plan_meals"), ("with a healthy meal plan", "counting the calories")),
    "security_auditor": (("scan_dependencies", "check_secrets"), ("after a security scan", "checking for leaked keys")),
}
"""Agents the organisation is drawn from: their tools, and phrases of a task that needs them."""

SUBJECTS = ("the Lisbon office", "our Q3 sales", "the mobile app", "a client in Osaka", "the spring campaign",
            "the new warehouse", "a family of four", "the research grant", "the onboarding guide", "the API gateway",
            "the annual report", "a vegan menu", "the board meeting", "the hiking club", "the migration plan")
VERBS = ("Prepare", "Work out", "Put together", "Help me with", "Sort out", "Draft", "Look into", "Handle")
NOUNS = ("an overview", "a plan", "a short report", "the numbers", "a proposal", "a checklist", "the details", "a summary")


@dataclass(frozen=True)
class Family:
    """A kind of task: its wording, the agents it always needs and those a phrase asks for."""

    topic: str
    core: tuple[str, ...]
    optional: tuple[tuple[str, str], ...]
    """(trigger phrase, unit) pairs: the unit joins the plan when the task contains the phrase."""


@dataclass(frozen=True)
class Organisation:
    """Units the supervisor hands off to: an agent, or a sub-team (a subgraph of agents)."""

    units: dict[str, tuple[str, ...]]
    """Unit name -> the agents it runs, in order (one agent: the unit is that agent)."""
    tools: dict[str, tuple[str, ...]]
    """Agent -> its tools."""
    families: tuple[Family, ...]
    handles_errors: frozenset[str]
    """Agents whose tool errors become messages (the rest end the run)."""


@dataclass(frozen=True)
class Run:
    """One task and what the program does for it."""

    task: str
    thread: str
    plan: tuple[str, ...]
    """Units handed off to, in order."""
    calls: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Agent -> its tool calls as (tool, fails)."""


def draw_organisation(seed: int, n_agents: int = 12, n_teams: int = 2, n_families: int = 14) -> Organisation:
    """An organisation drawn from `ROLES` with `seed`: agents, sub-teams of two, task families."""
    rng = random.Random(seed)
    agents = rng.sample(sorted(ROLES), n_agents)
    units: dict[str, tuple[str, ...]] = {}
    for i in range(n_teams):
        pair = tuple(agents[2 * i: 2 * i + 2])
        units[f"{pair[0].split('_')[0]}_team"] = pair
    units.update({a: (a,) for a in agents[2 * n_teams:]})
    names = sorted(units)
    topics = rng.sample([f"{noun} for {subject}" for noun in NOUNS for subject in SUBJECTS], n_families)
    families = []
    for topic in topics:
        picked = rng.sample(names, rng.randint(2, 5))
        k = rng.randint(1, 2)
        core, extra = picked[:k], picked[k:]
        phrases = tuple((rng.choice(ROLES[units[u][0]][1]), u) for u in extra)
        families.append(Family(topic, tuple(core), phrases))
    tools = {a: ROLES[a][0] for a in agents}
    return Organisation(units, tools, tuple(families), frozenset(rng.sample(agents, n_agents // 2)))


def draw_runs(org: Organisation, n: int, seed: int, fail_share: float = 0.08) -> list[Run]:
    """`n` tasks: a family, a wording, the optional units its phrases ask for, the tool calls."""
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        family = rng.choice(org.families)
        chosen = [(phrase, unit) for phrase, unit in family.optional if rng.random() < 0.5]
        task = f"{rng.choice(VERBS)} {family.topic}" + "".join(f", {p}" for p, _ in chosen) + "."
        plan = [*family.core, *(u for _, u in chosen)]
        if rng.random() < 0.3 and len(plan) > 1:
            plan.insert(rng.randrange(1, len(plan)), plan[0])  # the supervisor comes back to a unit
        calls = {}
        for agent in {a for u in plan for a in org.units[u]}:
            own = org.tools[agent]
            picked = rng.sample(own, rng.randint(1, min(2, len(own))))
            calls[agent] = tuple((t, rng.random() < fail_share) for t in picked)
        runs.append(Run(task, f"thread-{i // 2}", tuple(plan), calls))
    return runs


def _handoff(target: str) -> BaseTool:
    name = f"transfer_to_{target}"

    @tool(name, description=f"Hand the conversation to {target}.")
    def handoff(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        message = ToolMessage(content=f"Transferred to {target}", name=name, tool_call_id=tool_call_id)
        return Command(goto=target, graph=Command.PARENT, update={"messages": [message]})

    return handoff


def _tool(name: str) -> BaseTool:
    def run(request: str, fail: bool = False) -> str:
        if fail:
            raise RuntimeError(f"{name} failed on {request!r}")
        return f"{name} done: {request}"

    return StructuredTool.from_function(run, name=name, description=f"The {name.replace('_', ' ')} service.")


@wrap_tool_call
def _report_errors(request: Any, handler: Callable[[Any], Any]) -> Any:
    """A failed tool becomes an error message the model reads."""
    try:
        return handler(request)
    except RuntimeError as exc:
        return ToolMessage(content=f"Tool error: {exc}", tool_call_id=request.tool_call["id"], status="error")


def build_corpus_program(org: Organisation) -> tuple[Any, dict[str, ScriptedToolChatModel]]:
    """The compiled supervisor program (with a checkpointer) and each agent's scripted model."""
    agents = sorted(org.tools)
    models = {a: ScriptedToolChatModel(model_name=f"scripted-{a}") for a in ["supervisor", *agents]}
    built = {a: create_agent(models[a], tools=[_tool(t) for t in org.tools[a]], name=a,
                             middleware=[_report_errors] if a in org.handles_errors else [])
             for a in agents}
    supervisor = create_agent(models["supervisor"], name="supervisor", tools=[_handoff(u) for u in sorted(org.units)])
    program = StateGraph(MessagesState).add_node("supervisor", supervisor, destinations=(*sorted(org.units), END))
    program = program.add_edge(START, "supervisor")
    for unit, members in sorted(org.units.items()):
        node: Any = built[members[0]]
        if len(members) > 1:
            team = StateGraph(MessagesState)
            for a in members:
                team = team.add_node(a, built[a])
            team = team.add_edge(START, members[0])
            for a, b in zip(members, members[1:], strict=False):
                team = team.add_edge(a, b)
            node = team.compile(name=unit)
        program = program.add_node(unit, node).add_edge(unit, "supervisor")
    return program.compile(checkpointer=InMemorySaver(), name="coordinator"), models


def _scripts(org: Organisation, run: Run) -> dict[str, list[AIMessage]]:
    """Each model's replies for `run`: the supervisor's handoffs, each agent's tool calls."""
    out: dict[str, list[AIMessage]] = {"supervisor": []}
    for step, unit in enumerate(run.plan):
        out["supervisor"].append(_call(f"transfer_to_{unit}", f"s{step}"))
        for agent in org.units[unit]:
            replies = out.setdefault(agent, [])
            for j, (name, fails) in enumerate(run.calls[agent]):
                replies.append(_call(name, f"{agent}-{step}-{j}", request=f"{name} for: {run.task}", fail=fails))
            replies.append(AIMessage(content=f"{agent} finished step {step}."))
    out["supervisor"].append(AIMessage(content="All done."))
    return out


def _call(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def run_corpus(runs_and_seed: str) -> list[dict[str, Any]]:
    """Run ``RUNS:SEED`` tasks of the organisation drawn from SEED; what each run did.

    A run whose unhandled tool error ends it is recorded as a failure with the handoffs made
    until then.
    """
    count, seed = (int(x) for x in runs_and_seed.split(":"))
    org = draw_organisation(seed)
    program, models = build_corpus_program(org)
    done = []
    for run in draw_runs(org, count, seed + 1):
        scripts = _scripts(org, run)
        for name, model in models.items():
            model.replies, model.calls = scripts.get(name, []), []
        try:
            program.invoke({"messages": [{"role": "user", "content": run.task}]},
                           {"configurable": {"thread_id": run.thread}, "recursion_limit": 200})
            success = True
        except RuntimeError:
            success = False
        made = len(models["supervisor"].calls)
        done.append({"task": run.task, "thread": run.thread, "success": success,
                     "handoffs": [["supervisor", u] for u in run.plan[:made]]})
    return done
