"""The recommender file: safetensors plus JSON, read back exactly, and every unsafe or foreign file refused."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from coachgraph.config import Settings
from coachgraph.recommend.checkpoint import (
    LEGACY_FILE,
    SCHEMA_VERSION,
    ModelFileError,
    load_recommender,
    model_file,
    read_info,
)
from coachgraph.recommend.context import root_context
from coachgraph.recommend.features import feature_names
from coachgraph.recommend.fitting import examples_from_store
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.trainer import StalePolicy, ensure_model, train_store
from tests.fakes import HashEmbeddings
from tests.recommend._trees import EMB, FAST, make_store


class _Payload:
    """Unpickling this creates `marker`: what a tampered pickle in a shared cache could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Settings]:
    root = tmp_path_factory.mktemp("ckpt")
    location = str(root / "s.sqlite")
    make_store(Path(location)).close()
    settings = Settings(cache=root / "cache", default_embeddings=EMB)
    train_store(location, settings, embeddings=HashEmbeddings(dims=32), config=FAST)
    return location, settings


def _copy(trained: tuple[str, Settings], tmp_path: Path) -> tuple[str, Path]:
    """A private copy of the trained store and its model folder (tests below damage them)."""
    location, settings = trained
    source = model_file(location, settings.cache)
    store = tmp_path / "s.sqlite"
    store.write_bytes(Path(location).read_bytes())
    folder = model_file(str(store), settings.cache).parent
    folder.mkdir()
    for f in source.parent.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    return str(store), folder / source.name


def _edit(path: Path, **changes: object) -> None:
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))


def _load(path: Path) -> object:
    return load_recommender(path, HashEmbeddings(dims=32), EMB)


def test_round_trip_serves_exactly_what_was_trained(trained: tuple[str, Settings], tmp_path: Path) -> None:
    location, settings = trained
    path = model_file(location, settings.cache)
    assert sorted(p.suffix for p in path.parent.iterdir() if p.name.startswith("recommender")) == [".json", ".safetensors"]
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == SCHEMA_VERSION and doc["feature_names"] == feature_names() and len(doc["scorers"]) == 2
    rec, info = _load(path)
    assert info.trained_on.traces == 60 and info.embeddings == EMB and len(info.archs) == 2
    again, _ = _load(path)
    with make_store(tmp_path / "other.sqlite", n=9) as store:
        contexts = [e.context for e in examples_from_store(store, store.trace_ids())]
    contexts.append(root_context("q", "What is the weather in Oslo tomorrow?", tuple(rec.catalog.names())))
    for ctx in contexts:
        assert rec.rank(ctx, 3) == again.rank(ctx, 3)
    assert rec.vocab == again.vocab and rec.stats == again.stats
    np.testing.assert_array_equal(rec.catalog.vectors, again.catalog.vectors)


def test_a_tampered_pickle_never_runs(trained: tuple[str, Settings], tmp_path: Path) -> None:
    """A pickle where the old file, the description or the weights would be read: refused, never run."""
    store, path = _copy(trained, tmp_path)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    weights = path.with_name(json.loads(path.read_text())["tensors"]["file"])
    weights.write_bytes(payload)
    with pytest.raises(ModelFileError, match="SHA-256") as exc:
        _load(path)
    assert exc.value.reason == "corrupt"
    path.write_bytes(payload)
    with pytest.raises(ModelFileError, match="pickle") as exc:
        _load(path)
    assert exc.value.reason == "corrupt" and not exc.value.retrainable
    path.unlink()
    path.with_name(LEGACY_FILE).write_bytes(payload)
    with pytest.raises(ModelFileError, match="older release") as exc:
        _load(path)
    torch.save({"x": _Payload(marker)}, path.with_name(LEGACY_FILE))  # the old layout, torch's zip
    with pytest.raises(ModelFileError, match="older release"):
        RecommendService(store, Settings(cache=tmp_path, default_embeddings=EMB), embeddings=HashEmbeddings(dims=32))
    assert not marker.exists()


def test_a_file_of_the_previous_release_is_refused_then_retrained(trained: tuple[str, Settings], tmp_path: Path) -> None:
    store, path = _copy(trained, tmp_path)
    for f in path.parent.glob("recommender*"):
        f.unlink()
    torch.save({"config": {}, "state": {}, "extra": {}}, path.with_name(LEGACY_FILE))
    settings = Settings(cache=tmp_path, default_embeddings=EMB)
    with pytest.raises(ModelFileError, match=r"older release.*coachgraph recommend train --store") as exc:
        ensure_model(store, settings, if_stale=StalePolicy.REFUSE, embeddings=HashEmbeddings(dims=32), config=FAST)
    assert exc.value.reason == "legacy" and exc.value.retrainable
    fresh = ensure_model(store, settings, embeddings=HashEmbeddings(dims=32), config=FAST)
    assert fresh.fresh and read_info(path, EMB).trained_on.traces == 60


def test_another_feature_set_is_named_not_a_shape_error(trained: tuple[str, Settings], tmp_path: Path) -> None:
    _, path = _copy(trained, tmp_path)
    names = feature_names()
    _edit(path, feature_names=[n for n in names if n != "recency.is_prev2"] + ["recency.gone"])
    with pytest.raises(ModelFileError) as exc:
        _load(path)
    assert exc.value.reason == "features" and exc.value.retrainable
    assert "recency.is_prev2" in str(exc.value) and "recency.gone" in str(exc.value)
    _edit(path, feature_names=names, config={**json.loads(path.read_text())["config"], "columns": ["relevance.nope"]})
    with pytest.raises(ModelFileError, match="relevance.nope"):
        _load(path)


@pytest.mark.parametrize(("changes", "reason", "words"), [
    ({"schema_version": 99}, "schema", "schema_version 99"),
    ({"schema_version": 0}, "schema", "schema_version 0"),
    ({"schema_version": 1}, "legacy", "schema_version 1 was written by an older release"),
    ({"schema_version": "1"}, "schema", "schema_version '1'"),
    ({"schema_version": 2}, "legacy", "schema_version 2 was written by an older release"),
    ({"team": {"config": {}, "stats": {}}}, "corrupt", "field team.members"),
    ({"vocab": {"geocode": "one"}}, "corrupt", "field vocab.geocode"),
    ({"surprise": 1}, "corrupt", "field surprise"),
    ({"stats": {"n_traces": 1}}, "corrupt", "field stats.calls"),
    ({"embeddings": "minilm"}, "embeddings", "trained with embeddings 'minilm'"),
    ({"tensors": {"file": "../../elsewhere.safetensors", "sha256": "0" * 64}}, "corrupt", "field tensors.file"),
])
def test_descriptions_this_release_cannot_serve_are_refused(trained: tuple[str, Settings], tmp_path: Path,
                                                            changes: dict[str, object], reason: str, words: str) -> None:
    _, path = _copy(trained, tmp_path)
    _edit(path, **changes)
    with pytest.raises(ModelFileError) as exc:
        _load(path)
    assert exc.value.reason == reason and words in str(exc.value) and str(path) in str(exc.value)


def test_weights_that_do_not_fit_their_config_are_refused(trained: tuple[str, Settings], tmp_path: Path) -> None:
    _, path = _copy(trained, tmp_path)
    doc = json.loads(path.read_text())
    doc["scorers"][0]["n_hidden"] = 8
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="weights of scorer 0 do not fit"):
        _load(path)


def test_a_team_setting_naming_no_feature_group_is_refused(trained: tuple[str, Settings], tmp_path: Path) -> None:
    _, path = _copy(trained, tmp_path)
    doc = json.loads(path.read_text())
    doc["team"]["config"]["unread"] = ["telepathy"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="team.config.unread: unknown feature group 'telepathy'") as exc:
        _load(path)
    assert exc.value.reason == "corrupt"
