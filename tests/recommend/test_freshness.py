"""Fresh answers: a model knows the store content it saw; stale models retrain, warn or refuse; a
service reloads a retrained model without a restart; long steps report progress and print nothing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from coachgraph.calltree.schema import Pool, PoolEntry
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.config import Settings
from coachgraph.recommend import progress as stages
from coachgraph.recommend.checkpoint import ModelFileError, model_file
from coachgraph.recommend.fingerprint import compare, store_fingerprint
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.trainer import (
    StaleModelError,
    StalePolicy,
    ensure_model,
    open_service,
    train_store,
)
from tests.fakes import HashEmbeddings
from tests.recommend._trees import EMB, FAST, make_store, make_tree


def _settings(tmp_path: Path) -> Settings:
    return Settings(cache=tmp_path / "cache", default_embeddings=EMB)


def _grow(location: str, first: int, n: int) -> None:
    """Add `n` new traces to the store (ids from `first`)."""
    rng = random.Random(first)
    with SQLiteCallTreeStore(location) as store:
        store.put_trees([make_tree(i, "weather", rng) for i in range(first, first + n)])


@pytest.fixture
def location(tmp_path: Path) -> str:
    path = tmp_path / "s.sqlite"
    make_store(path, n=30).close()
    return str(path)


def test_fingerprint_sees_new_changed_and_pool_changes(location: str) -> None:
    with SQLiteCallTreeStore(location) as store:
        before = store_fingerprint(store)
        again = store_fingerprint(store)
        assert again.digest == before.digest and compare(before, again).fresh and before.traces == 30
        tree = store.get_tree("t003")
        store.put_tree(tree.model_copy(update={"success": not tree.success}))
        changed = compare(before, store_fingerprint(store))
        assert (changed.fresh, changed.added, changed.removed, changed.now) == (False, 1, 1, 30)
        store.put_tree(make_tree(99, "math", random.Random(0)))
        grown = compare(before, store_fingerprint(store))
        assert (grown.added, grown.removed, grown.now) == (2, 1, 31)
        after = store_fingerprint(store)
        store.put_pool(Pool(name="shared", entries=[PoolEntry(name="x", kind="tool", description="a tool")]))
        pools = compare(after, store_fingerprint(store))
        assert not pools.fresh and (pools.added, pools.removed) == (0, 0) and "pools" in pools.describe()


def test_stale_model_retrains_warns_or_refuses(location: str, tmp_path: Path) -> None:
    settings, emb = _settings(tmp_path), HashEmbeddings(dims=32)
    first = ensure_model(location, settings, embeddings=emb, config=FAST)  # no model yet: trains
    assert first.fresh and first.trained_on == 30
    assert ensure_model(location, settings, if_stale=StalePolicy.REFUSE, embeddings=emb, config=FAST).fresh
    _grow(location, 30, 5)
    with pytest.raises(StaleModelError, match=r"trained on 30 traces: it now holds 35 \(5 new or changed, 0 removed"
                                              r".*coachgraph recommend train --store"):
        ensure_model(location, settings, if_stale=StalePolicy.REFUSE, embeddings=emb, config=FAST)
    warned = ensure_model(location, settings, if_stale=StalePolicy.WARN, embeddings=emb, config=FAST)
    assert not warned.fresh and (warned.trained_on, warned.now) == (30, 35)
    assert RecommendService(location, settings, embeddings=emb).stats.n_traces == 30  # still the old model
    retrained = ensure_model(location, settings, embeddings=emb, config=FAST)
    assert retrained.fresh and retrained.trained_on == 35
    assert RecommendService(location, settings, embeddings=emb).stats.n_traces == 35


def test_watching_service_picks_up_a_new_file_and_keeps_serving_through_a_bad_one(location: str, tmp_path: Path) -> None:
    settings, emb = _settings(tmp_path), HashEmbeddings(dims=32)
    service = open_service(location, settings, embeddings=emb, config=FAST, watch_s=0.0)
    _grow(location, 30, 4)
    train_store(location, settings, embeddings=emb, config=FAST)
    assert service.next("weather in Lima", k=2) and service.stats.n_traces == 34
    path = model_file(location, settings.cache)
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "schema_version": 7}))
    assert [r.name for r in service.next("weather in Lima", k=2)]  # logged, old model kept
    assert service.stats.n_traces == 34
    with pytest.raises(ModelFileError, match="schema_version 7"):
        service.reload()


def test_training_reports_progress_and_prints_nothing(location: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, list[tuple[int, int]]] = {}
    train_store(location, _settings(tmp_path), embeddings=HashEmbeddings(dims=32), config=FAST,
                progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)))
    assert set(seen) == {stages.FINGERPRINT, stages.EMBED_ITEMS, stages.EMBED_QUERIES, stages.FEATURES,
                         stages.CHOOSE, stages.TRAIN}
    for stage, steps in seen.items():
        done = [d for d, _ in steps]
        assert done == sorted(done) and steps[-1][0] == steps[-1][1] > 0, (stage, steps)
        assert len({t for _, t in steps}) == 1, (stage, steps)  # one total per stage, folds and members summed
    assert capsys.readouterr() == ("", "")
