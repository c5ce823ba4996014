"""The service only loads and serves: a retrained model is swapped in by `reload`, without a restart."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.config import Settings
from coachgraph.recommend.checkpoint import ModelFileError, model_file
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.trainer import open_service, train_store
from tests.fakes import HashEmbeddings
from tests.recommend._trees import EMB, FAST, make_store, make_tree


def test_a_service_needs_a_trained_model(tmp_path: Path) -> None:
    make_store(tmp_path / "s.sqlite", n=10).close()
    with pytest.raises(ModelFileError, match="no trained recommender") as exc:
        RecommendService(str(tmp_path / "s.sqlite"), Settings(cache=tmp_path, default_embeddings=EMB),
                         embeddings=HashEmbeddings(dims=32))
    assert exc.value.reason == "missing"


def test_reload_swaps_in_a_retrained_model_and_keeps_the_old_one_on_a_bad_file(tmp_path: Path) -> None:
    location, settings, emb = str(tmp_path / "s.sqlite"), Settings(cache=tmp_path, default_embeddings=EMB), HashEmbeddings(dims=32)
    make_store(Path(location), n=30).close()
    service = open_service(location, settings, embeddings=emb, config=FAST, watch_s=None)
    assert service.reload() is False and service.stats.n_traces == 30 and service.freshness().fresh
    with SQLiteCallTreeStore(location) as store:
        store.put_trees([make_tree(i, "math", random.Random(i)) for i in range(30, 36)])
    assert not service.freshness().fresh
    train_store(location, settings, embeddings=emb, config=FAST)
    assert service.stats.n_traces == 30  # not watching: the loaded model answers until reload
    assert service.reload() is True and service.stats.n_traces == 36 and service.info.traces == 36
    assert service.freshness().fresh
    assert service.reload() is False and service.reload(force=True) is True
    weights = list(model_file(location, settings.cache).parent.glob("recommender-*.safetensors"))
    assert 1 <= len(weights) <= 2  # the current weights, and the ones before for readers still opening them
    model_file(location, settings.cache).write_text("{not json")
    with pytest.raises(ModelFileError, match="not JSON"):
        service.reload()
    assert [r.name for r in service.next("Compute 4 times seven", k=1)] == ["calculator"]
