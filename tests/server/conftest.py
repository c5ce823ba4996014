"""A small store with a recommender trained on it (fake embeddings), shared by the server tests."""

from __future__ import annotations

import pytest

from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.train import ScorerTrainConfig
from coachgraph.recommend.trainer import open_service
from tests.fakes import HashEmbeddings
from tests.recommend._trees import make_store

FAST = RecommenderConfig(train=ScorerTrainConfig(epochs=5), arch_choices=("mlp",))
"""One architecture, few epochs: these tests check the HTTP edges, not ranking quality."""


@pytest.fixture(scope="package")
def service(tmp_path_factory: pytest.TempPathFactory) -> RecommendService:
    """The store's recommender, trained once and cached beside the store (where servers load it)."""
    path = tmp_path_factory.mktemp("srv") / "store.sqlite"
    make_store(path).close()
    return open_service(str(path), embeddings=HashEmbeddings(dims=32), config=FAST)
