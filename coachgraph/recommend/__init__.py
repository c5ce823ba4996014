"""Agent/tool and team recommendation learned from calling trees: retrieve, featurise, score."""

from coachgraph.recommend.candidates import Candidates, Constraints, retrieve
from coachgraph.recommend.catalog import Catalog, CatalogItem, catalog_from_store
from coachgraph.recommend.context import DecisionContext, Example, contexts_from_tree, next_context
from coachgraph.recommend.evaluate import run_benchmark
from coachgraph.recommend.features import FEATURE_GROUPS, featurize
from coachgraph.recommend.recommender import Recommendation, Recommender, RecommenderConfig
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.supervisor import build_supervisor
from coachgraph.recommend.team import Team, TeamConfig, select_team
from coachgraph.recommend.tool import recommend_next_agent_tool

__all__ = (
    "FEATURE_GROUPS",
    "Candidates",
    "Catalog",
    "CatalogItem",
    "Constraints",
    "DecisionContext",
    "Example",
    "Recommendation",
    "RecommendService",
    "Recommender",
    "RecommenderConfig",
    "Scorer",
    "ScorerConfig",
    "Team",
    "TeamConfig",
    "build_supervisor",
    "catalog_from_store",
    "contexts_from_tree",
    "featurize",
    "next_context",
    "recommend_next_agent_tool",
    "retrieve",
    "run_benchmark",
    "select_team",
)
