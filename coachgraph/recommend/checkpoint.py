"""Recommender files: safetensors weights plus a JSON description, never a pickle.

A trained recommender is two files in its cache folder:

- ``recommender.json``, the description: `schema_version`, the feature names, the recommender's
  and each scorer's config, the training statistics, the item vocabulary, the catalogue, the
  embeddings it was trained with, the fingerprint of the store it was trained on, the team
  recommender's part (`teamfile`; null where the traces held too few teams), and the name and
  SHA-256 of its weights file;
- ``recommender-<sha256>.safetensors``: scorer weights, catalogue vectors, the keys of the
  traces it was trained on and the team recommender's weights.

The weights are written first, then the description by an atomic rename, so a reader sees the
previous model or the new one, whole; the weights of the model before are kept for readers that
are still opening it. Reading runs no code (JSON and safetensors hold data only) and refuses,
with the file and the reason: the pickle of the previous release (``recommender.pt``, never
opened), a `schema_version` of an older or unknown release, a feature set other than the one
this release computes, weights that do not match their description, and any field of the wrong
shape.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from coachgraph import __version__
from coachgraph.errors import CoachgraphError
from coachgraph.recommend.catalog import Catalog, CatalogItem
from coachgraph.recommend.ensemble import Ensemble
from coachgraph.recommend.features import feature_names
from coachgraph.recommend.fingerprint import StoreFingerprint
from coachgraph.recommend.recommender import Recommender, RecommenderConfig
from coachgraph.recommend.scorer import ARCHS, Scorer, ScorerConfig
from coachgraph.recommend.stats import stats_from_dict, stats_to_dict
from coachgraph.recommend.teamfile import (
    TeamDescription,
    TeamFileError,
    team_description,
    team_feature_change,
    team_from_file,
    team_tensors,
)

__all__ = ["LEGACY_FILE", "MODEL_FILE", "SCHEMA_VERSION", "ModelFileError", "ModelInfo", "load_recommender",
           "load_scorer", "model_dir", "model_file", "read_info", "save_recommender", "save_scorer"]

SCHEMA_VERSION = 4
"""Version of the description this release writes and reads (2 added the store fingerprint, 3 the
team recommender, 4 the task-word statistics and the wording features)."""
MODEL_FILE = "recommender.json"
"""The description's name in a store's model folder."""
LEGACY_FILE = "recommender.pt"
"""The previous release's pickle, refused unread."""
MAX_DESCRIPTION_BYTES = 512 * 2**20
"""Largest description read (statistics of a few million distinct calls fit well within it)."""
MAX_WEIGHTS_BYTES = 4 * 2**30
"""Largest weights file read."""
_PICKLE_OR_ZIP = (b"\x80", b"PK\x03\x04")
"""How a pickle (protocol 2 and later) and a zip archive (`torch.save`) begin."""


class ModelFileError(CoachgraphError):
    """A model file that cannot be served; `reason` says why.

    Reasons: ``missing``, ``legacy`` (written by an older release), ``features`` (trained on
    another feature set), ``embeddings`` (trained with other embeddings), ``schema`` (a
    `schema_version` this release does not know, e.g. from a newer release), ``corrupt``
    (unreadable, tampered or inconsistent). The first four are `retrainable`: training again
    replaces the file with one this release serves.
    """

    def __init__(self, message: str, *, path: Path, reason: str) -> None:
        self.path, self.reason, self.detail = path, reason, message
        super().__init__(f"{path}: {message}")

    @property
    def retrainable(self) -> bool:
        return self.reason in ("missing", "legacy", "features", "embeddings")


def model_file(location: str, cache: Path) -> Path:
    """The description file of a store's model (see `model_dir`)."""
    return model_dir(location, cache) / MODEL_FILE


def model_dir(location: str, cache: Path) -> Path:
    """The folder of a store's model: beside a SQLite file, under `cache` for a server DSN."""
    if "://" in location and not location.startswith("sqlite://"):
        digest = hashlib.sha256(location.encode("utf-8")).hexdigest()[:16]
        return cache / f"recommender-{digest}"
    return Path(f"{location.removeprefix('sqlite://')}.recommender")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TensorsRef(_Strict):
    file: str = Field(pattern=r"^[A-Za-z0-9_.-]+\.safetensors$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _StoreRef(_Strict):
    fingerprint: str
    traces: int
    pools: int


class _Item(_Strict):
    name: str
    kind: str
    description: str


class _Weights(_Strict):
    schema_version: int
    tensors: _TensorsRef
    scorers: list[ScorerConfig] = Field(min_length=1)


class _ScorerDoc(_Weights):
    kind: Literal["scorer"]
    extra: dict[str, Any]


class _RecommenderDoc(_Weights):
    kind: Literal["recommender"]
    coachgraph_version: str
    created: str
    embeddings: str
    feature_names: list[str]
    config: RecommenderConfig
    vocab: dict[str, int]
    catalog: list[_Item]
    store: _StoreRef
    stats: dict[str, Any]
    team: TeamDescription | None


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself."""

    path: Path
    created: str
    """When it was trained (UTC, ISO 8601)."""
    coachgraph_version: str
    embeddings: str
    """The embeddings spec its catalogue vectors come from."""
    archs: tuple[str, ...]
    """Architecture of each scorer (several: an ensemble)."""
    trained_on: StoreFingerprint
    """The store's content when it was trained."""

    @property
    def traces(self) -> int:
        """Traces it was trained on."""
        return self.trained_on.traces


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _scorer_tensors(model: Scorer | Ensemble) -> tuple[list[ScorerConfig], dict[str, torch.Tensor]]:
    members = list(model.members) if isinstance(model, Ensemble) else [model]
    tensors = {f"scorer.{i}.{k}": v.detach().contiguous() for i, m in enumerate(members) for k, v in m.state_dict().items()}
    return [m.config for m in members], tensors


def _write(path: Path, tensors: dict[str, torch.Tensor], doc: dict[str, Any]) -> None:
    """Write the weights under a name of their own, then the description that names them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = save_tensors(tensors)
    digest = hashlib.sha256(blob).hexdigest()
    weights = path.with_name(f"{path.stem}-{digest[:16]}.safetensors")
    _write_atomic(weights, blob)
    keep = {weights.name, _named_weights(path)}
    doc = {"schema_version": SCHEMA_VERSION, **doc, "tensors": {"file": weights.name, "sha256": digest}}
    _write_atomic(path, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    for old in path.parent.glob(f"{path.stem}-*.safetensors"):
        if old.name not in keep:
            old.unlink(missing_ok=True)


def _named_weights(path: Path) -> str | None:
    """The weights file the current description names (kept for readers opening it)."""
    try:
        return str(json.loads(path.read_bytes())["tensors"]["file"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fail(path: Path, reason: str, message: str) -> ModelFileError:
    return ModelFileError(message, path=path, reason=reason)


def _read_doc(path: Path) -> dict[str, Any]:
    """The description as JSON, its version checked; nothing in it is run."""
    legacy = path.with_name(LEGACY_FILE)
    if not path.is_file():
        if legacy.is_file():
            raise _fail(legacy, "legacy", "written by an older release of coachgraph (a pickle, which is never "
                                          "loaded because loading it could run code)")
        raise _fail(path, "missing", "no trained recommender")
    if path.stat().st_size > MAX_DESCRIPTION_BYTES:
        raise _fail(path, "corrupt", f"larger than {MAX_DESCRIPTION_BYTES} bytes")
    raw = path.read_bytes()
    if raw.startswith(_PICKLE_OR_ZIP):
        raise _fail(path, "corrupt", "a pickle or torch archive where a JSON description belongs (never loaded)")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, "corrupt", f"not JSON ({exc})") from None
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if type(version) is int and 0 < version < SCHEMA_VERSION:
        raise _fail(path, "legacy", f"schema_version {version} was written by an older release of coachgraph "
                                    f"(this one reads {SCHEMA_VERSION})")
    if version != SCHEMA_VERSION:
        raise _fail(path, "schema", f"schema_version {version!r} is not one this release reads ({SCHEMA_VERSION})")
    return doc


def _validated(path: Path, model: type[_Weights], doc: dict[str, Any]) -> Any:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise _fail(path, "corrupt", f"field {field}: {err['msg']}") from None


def _check_features(path: Path, names: list[str], config: RecommenderConfig) -> None:
    code = feature_names()
    if names != code or any(c not in code for c in config.columns):
        missing = [n for n in code if n not in names]
        extra = [n for n in names if n not in code] + [c for c in config.columns if c not in code]
        detail = "; ".join(p for p in (f"this release computes {', '.join(missing)}, which it lacks" if missing else "",
                                       f"it has {', '.join(extra)}, which this release does not compute" if extra else "")
                           if p) or "the same features in another order"
        raise _fail(path, "features", f"trained on another feature set than this release's ({detail})")


def _describe(path: Path, embeddings_name: str) -> tuple[_RecommenderDoc, dict[str, Any]]:
    raw = _read_doc(path)
    doc: _RecommenderDoc = _validated(path, _RecommenderDoc, raw)
    _check_features(path, doc.feature_names, doc.config)
    if doc.team is not None and (change := team_feature_change(doc.team)):
        raise _fail(path, "features", f"its team recommender was trained on another feature set than this release's ({change})")
    if doc.embeddings != embeddings_name:
        raise _fail(path, "embeddings", f"trained with embeddings {doc.embeddings!r}, not {embeddings_name!r}")
    return doc, raw


def _weights_path(path: Path, ref: _TensorsRef) -> Path:
    weights = path.with_name(ref.file)
    if not weights.is_file():
        raise _fail(weights, "corrupt", f"missing (named by {path.name})")
    if weights.stat().st_size > MAX_WEIGHTS_BYTES:
        raise _fail(weights, "corrupt", f"larger than {MAX_WEIGHTS_BYTES} bytes")
    return weights


def _read_tensors(path: Path, ref: _TensorsRef) -> dict[str, torch.Tensor]:
    weights = _weights_path(path, ref)
    blob = weights.read_bytes()
    if hashlib.sha256(blob).hexdigest() != ref.sha256:
        raise _fail(weights, "corrupt", f"its SHA-256 differs from the one {path.name} records")
    try:
        return load_tensors(blob)
    except SafetensorError as exc:
        raise _fail(weights, "corrupt", f"not a safetensors file ({exc})") from None


def _scorer(path: Path, configs: list[ScorerConfig], tensors: dict[str, torch.Tensor]) -> Scorer | Ensemble:
    members = []
    for i, config in enumerate(configs):
        if config.arch not in ARCHS:
            raise _fail(path, "corrupt", f"field scorers.{i}.arch: unknown architecture {config.arch!r}")
        prefix = f"scorer.{i}."
        model = Scorer(config)
        try:
            model.load_state_dict({k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)})
        except RuntimeError as exc:
            raise _fail(path, "corrupt", f"weights of scorer {i} do not fit its config: {str(exc).splitlines()[0]}") from None
        members.append(model.eval())
    return members[0] if len(members) == 1 else Ensemble(members).eval()


def save_scorer(model: Scorer | Ensemble, path: Path, extra: dict[str, Any] | None = None) -> None:
    """Write a scorer (or ensemble) alone: description `path` (JSON) with JSON-ready `extra`."""
    configs, tensors = _scorer_tensors(model)
    _write(path, tensors, {"kind": "scorer", "scorers": [asdict(c) for c in configs], "extra": extra or {}})


def load_scorer(path: Path) -> tuple[Scorer | Ensemble, dict[str, Any]]:
    """Read a scorer written by `save_scorer`: the model (eval mode) and `extra`."""
    doc: _ScorerDoc = _validated(path, _ScorerDoc, _read_doc(path))
    return _scorer(path, doc.scorers, _read_tensors(path, doc.tensors)), doc.extra


def save_recommender(rec: Recommender, path: Path, *, embeddings: str, store: StoreFingerprint) -> None:
    """Write `rec` trained on a store whose content was `store`, with catalogue vectors from
    the embeddings spec `embeddings`."""
    configs, tensors = _scorer_tensors(rec.model)
    tensors["catalog.vectors"] = torch.from_numpy(np.ascontiguousarray(rec.catalog.vectors, np.float32))
    tensors["store.keys"] = torch.from_numpy(store.keys)
    doc = {"kind": "recommender", "coachgraph_version": __version__, "created": datetime.now(UTC).isoformat(),
           "embeddings": embeddings, "feature_names": feature_names(), "config": asdict(rec.config),
           "scorers": [asdict(c) for c in configs], "vocab": rec.vocab,
           "catalog": [asdict(item) for item in rec.catalog.items],
           "store": {"fingerprint": store.digest, "traces": store.traces, "pools": store.pools},
           "stats": stats_to_dict(rec.stats), "team": team_description(rec.team) if rec.team else None}
    if rec.team:
        tensors.update(team_tensors(rec.team))
    _write(path, tensors, doc)


def _info(path: Path, doc: _RecommenderDoc, keys: torch.Tensor) -> ModelInfo:
    if keys.dtype != torch.int64 or keys.dim() != 1 or len(keys) != doc.store.traces:
        raise _fail(path, "corrupt", f"its trace keys do not match store.traces ({doc.store.traces})")
    trained = StoreFingerprint(doc.store.fingerprint, keys.numpy(), doc.store.pools)
    return ModelInfo(path, doc.created, doc.coachgraph_version, doc.embeddings, tuple(c.arch for c in doc.scorers),
                     trained)


def read_info(path: Path, embeddings_name: str) -> ModelInfo:
    """What the model file at `path` says about itself, checked as `load_recommender` checks it
    (but its weights not read): raises `ModelFileError` where it could not be served."""
    doc, _ = _describe(path, embeddings_name)
    weights = _weights_path(path, doc.tensors)
    try:
        with safe_open(str(weights), framework="pt") as f:
            keys = f.get_tensor("store.keys")
    except (SafetensorError, OSError) as exc:
        raise _fail(weights, "corrupt", f"trace keys unreadable ({exc})") from None
    return _info(path, doc, keys)


def load_recommender(path: Path, embeddings: Embeddings, embeddings_name: str) -> tuple[Recommender, ModelInfo]:
    """Read the recommender at `path`; `embeddings` (the spec `embeddings_name`) embeds new queries.

    Raises:
        ModelFileError: the file cannot be served (see its `reason`).
    """
    doc, raw = _describe(path, embeddings_name)
    tensors = _read_tensors(path, doc.tensors)
    try:
        stats = stats_from_dict(raw["stats"])
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _fail(path, "corrupt", f"field stats.{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    vectors = tensors.get("catalog.vectors")
    if vectors is None or vectors.dim() != 2 or len(vectors) != len(doc.catalog) or "store.keys" not in tensors:
        raise _fail(path, "corrupt", "its catalogue vectors do not match its catalogue")
    items = [CatalogItem(i.name, i.kind, i.description) for i in doc.catalog]
    catalog = Catalog(items, embeddings, vectors=vectors.numpy())
    rec = Recommender(catalog, stats, _scorer(path, doc.scorers, tensors), doc.vocab, doc.config)
    try:
        rec.team = team_from_file(doc.team, tensors) if doc.team else None
    except TeamFileError as exc:
        raise _fail(path, "corrupt", str(exc)) from None
    return rec, _info(path, doc, tensors["store.keys"])
