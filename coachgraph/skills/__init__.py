"""The skill library: Agent Skills folders, retrieval, routing, reflective writing, rubrics."""

from __future__ import annotations

from coachgraph.skills.disclosure import render_available_skills, render_resource, render_skill
from coachgraph.skills.importer import (
    ImportReport,
    discover,
    import_skills,
    install_starter,
    starter_dir,
)
from coachgraph.skills.library import SkillLibrary
from coachgraph.skills.model import Skill, SkillKind, Trajectory
from coachgraph.skills.prereq import (
    mastery_order,
    prerequisite_dag,
    prerequisite_graph,
    prerequisites_of,
    prerequisites_within,
    topological_orders,
)
from coachgraph.skills.reflect import (
    Reflection,
    ReflectionAction,
    SkillWriter,
    record_outcomes,
    retire_failing,
)
from coachgraph.skills.router import Route, RouteMode, RouterConfig, SkillRouter
from coachgraph.skills.rubric import (
    Criterion,
    RubricScore,
    parse_criteria,
    route_subgoal,
    score_against,
)
from coachgraph.skills.spec import parse_skill_md, read_skill, render_skill_md, skill_problems
from coachgraph.skills.stats import SkillStats, Usage

__all__ = (
    "Criterion",
    "ImportReport",
    "Reflection",
    "ReflectionAction",
    "Route",
    "RouteMode",
    "RouterConfig",
    "RubricScore",
    "Skill",
    "SkillKind",
    "SkillLibrary",
    "SkillRouter",
    "SkillStats",
    "SkillWriter",
    "Trajectory",
    "Usage",
    "discover",
    "import_skills",
    "install_starter",
    "mastery_order",
    "parse_criteria",
    "parse_skill_md",
    "prerequisite_dag",
    "prerequisite_graph",
    "prerequisites_of",
    "prerequisites_within",
    "read_skill",
    "record_outcomes",
    "render_available_skills",
    "render_resource",
    "render_skill",
    "render_skill_md",
    "retire_failing",
    "route_subgoal",
    "score_against",
    "skill_problems",
    "starter_dir",
    "topological_orders",
)
