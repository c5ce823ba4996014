"""Agent/tool and team recommendation learned from calling trees: retrieve, featurise, score.

Fitting (`fitting`, `trainer`) writes a store's model file (`checkpoint`); serving
(`service`) only loads it and answers.
"""

from coachgraph.recommend.candidates import Candidates, Constraints, retrieve
from coachgraph.recommend.catalog import Catalog, CatalogItem, catalog_from_store
from coachgraph.recommend.checkpoint import (
    ModelFileError,
    ModelInfo,
    load_recommender,
    save_recommender,
)
from coachgraph.recommend.context import DecisionContext, Example, contexts_from_tree, next_context
from coachgraph.recommend.evaluate import run_benchmark
from coachgraph.recommend.features import FEATURE_GROUPS, featurize
from coachgraph.recommend.fingerprint import Freshness, StoreFingerprint, store_fingerprint
from coachgraph.recommend.fitting import fit_recommender
from coachgraph.recommend.progress import Progress
from coachgraph.recommend.recommender import Recommendation, Recommender, RecommenderConfig
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.structure import ENTRY, TeamStructure, team_structure
from coachgraph.recommend.supervisor import build_supervisor
from coachgraph.recommend.team import Team, TeamConfig
from coachgraph.recommend.teamfit import fit_team_model
from coachgraph.recommend.teammodel import TeamModelConfig
from coachgraph.recommend.teamrec import TeamModel, TeamQuery, recommend_team
from coachgraph.recommend.tool import recommend_next_agent_tool
from coachgraph.recommend.train import ScorerTrainConfig
from coachgraph.recommend.trainer import (
    StaleModelError,
    StalePolicy,
    ensure_model,
    open_service,
    train_store,
)

__all__ = (
    "ENTRY",
    "FEATURE_GROUPS",
    "Candidates",
    "Catalog",
    "CatalogItem",
    "Constraints",
    "DecisionContext",
    "Example",
    "Freshness",
    "ModelFileError",
    "ModelInfo",
    "Progress",
    "Recommendation",
    "RecommendService",
    "Recommender",
    "RecommenderConfig",
    "Scorer",
    "ScorerConfig",
    "ScorerTrainConfig",
    "StaleModelError",
    "StalePolicy",
    "StoreFingerprint",
    "Team",
    "TeamConfig",
    "TeamModel",
    "TeamModelConfig",
    "TeamQuery",
    "TeamStructure",
    "build_supervisor",
    "catalog_from_store",
    "contexts_from_tree",
    "ensure_model",
    "featurize",
    "fit_team_model",
    "fit_recommender",
    "load_recommender",
    "next_context",
    "open_service",
    "recommend_next_agent_tool",
    "recommend_team",
    "retrieve",
    "run_benchmark",
    "save_recommender",
    "store_fingerprint",
    "team_structure",
    "train_store",
)
