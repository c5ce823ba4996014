"""What the orchestrate graph's nodes receive through LangGraph's runtime context.

`OrchestrateContext.from_run` builds it from an `OrchestrateConfig` (the run driver does); a
LangGraph server, which passes the context of a run as JSON, builds the same thing from
``{"run": {...OrchestrateConfig fields...}, "run_dir": "..."}``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import Field, model_validator

from coachgraph.agents import BaseContext
from coachgraph.agents.context import ChatModelField, shared_chat_model
from coachgraph.agents.pool import PoolFile, load_pool
from coachgraph.config import Settings
from coachgraph.errors import InputError
from coachgraph.graphs.orchestrate.config import OrchestrateConfig
from coachgraph.graphs.orchestrate.corpora import check_corpus
from coachgraph.graphs.orchestrate.policy import POLICIES, retrieval_team
from coachgraph.graphs.orchestrate.recommender import RecommenderHandle, run_recommender_config
from coachgraph.graphs.runs import plain_run_fields
from coachgraph.models import load_embeddings
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import load_domain

__all__ = ["STORE_FILE", "OrchestrateContext", "check_orchestrate"]

STORE_FILE = "teams.sqlite"
"""The run's store of team calling trees (and of the corpora copied into it); the recommender's
model is kept beside it."""


class OrchestrateContext(BaseContext):
    """Dependencies of the orchestrate nodes, injected as `Runtime[OrchestrateContext].context`."""

    config: OrchestrateConfig
    pool: PoolFile
    run_dir: Path
    store: str
    """Location of the team-traces store."""
    recommender: RecommenderHandle
    embeddings: Embeddings
    skills: tuple[str, ...]
    """Skills tasks are drawn from."""
    fixed: tuple[str, ...] = ()
    """The `fixed` policy's team."""
    supervisor: ChatModelField | None = None
    """A tool-calling chat model as every team's supervisor; None follows the call structure."""
    writing: Any = Field(default_factory=threading.Lock)
    """Serialises writes to the store from a round's side-by-side tasks."""

    @model_validator(mode="before")
    @classmethod
    def _from_plain_settings(cls, data: Any) -> Any:
        return plain_run_fields(data, OrchestrateConfig, _fields)

    @classmethod
    def from_run(cls, config: OrchestrateConfig, run_dir: Path) -> OrchestrateContext:
        """The live dependencies of a run: pool, domain, library, store, recommender."""
        return cls(**_fields(config, run_dir))


def _library(config: OrchestrateConfig, run_dir: Path) -> SkillLibrary:
    if config.library is not None:
        return SkillLibrary(Path(config.library), embeddings=None)
    library = SkillLibrary(run_dir / "skills", embeddings=None)
    if not library.names():
        install_starter(library)
    return library


def _skills(config: OrchestrateConfig, domain_skills: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [s for s in config.skills if s not in domain_skills]
    if unknown:
        raise InputError(f"unknown skill {unknown[0]!r}; known: {', '.join(domain_skills)}", source="skills")
    return config.skills or domain_skills


def _fixed(config: OrchestrateConfig, pool: PoolFile, embeddings: Embeddings) -> tuple[str, ...]:
    """The fixed team: as configured, else what retrieval over the descriptions picks for the pool's purpose."""
    if config.fixed_team:
        return config.fixed_team
    vectors = embeddings.embed_documents([m.description for m in pool.members])
    query = embeddings.embed_query(pool.description or pool.name)
    return retrieval_team(pool, np.asarray(vectors, np.float32), np.asarray(query, np.float32), config.team_size)


def check_orchestrate(config: OrchestrateConfig) -> PoolFile:
    """Check what a run names (policy, pool, domain, skills, fixed team, corpora) without loading a
    model or creating anything, so that a bad setting is refused before a run folder exists."""
    if config.policy not in POLICIES:
        raise InputError(f"unknown policy {config.policy!r}; known: {', '.join(POLICIES)}", source="policy")
    pool = load_pool(config.pool)
    _skills(config, load_domain(config.domain).skills)
    for name in config.fixed_team:
        pool.member(name)
    for corpus in config.corpora:
        check_corpus(corpus)
    return pool


def _fields(config: OrchestrateConfig, run_dir: Path) -> dict[str, Any]:
    pool = check_orchestrate(config)
    domain = load_domain(config.domain)
    settings = Settings.from_env()
    embeddings = load_embeddings(settings.default_embeddings)
    store = str(run_dir / STORE_FILE)
    recommender = RecommenderHandle(store, embeddings, settings, run_recommender_config(
        config.recommender_arch, config.recommender_steps, config.seed))
    return {"config": config, "pool": pool, "run_dir": run_dir, "store": store, "recommender": recommender,
            "embeddings": embeddings, "domain": domain, "seed": config.seed, "library": _library(config, run_dir),
            "skills": _skills(config, domain.skills), "fixed": _fixed(config, pool, embeddings),
            "supervisor": shared_chat_model(config.supervisor) if config.supervisor else None}
