"""The team recommender inside a model file: a JSON part for the description, tensors for the weights.

`checkpoint.save_recommender` stores what `team_description` and `team_tensors` return beside
the agent-level recommender, and `checkpoint.load_recommender` rebuilds the `TeamModel` with
`team_from_file`. The description holds the team recommender's settings, its member scorer's
config and the training teams and tasks (every count of `teamstats.TeamStats` follows from
them); the tensors hold the three models' weights and the training tasks' vectors. Nothing read
is run, and a part that does not fit the code says which part.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, ValidationError

from coachgraph.errors import CoachgraphError
from coachgraph.recommend.features import FEATURE_GROUPS
from coachgraph.recommend.scorer import ARCHS, Scorer, ScorerConfig
from coachgraph.recommend.teamfeatures import EDGE_FEATURES, MEMBER_FEATURES, SET_FEATURES
from coachgraph.recommend.teammodel import StandardLinear, TeamModelConfig
from coachgraph.recommend.teamrec import TeamModel
from coachgraph.recommend.teamstats import TeamHistory, team_stats_from_dict, team_stats_to_dict

__all__ = ["PREFIX", "TEAM_FEATURES", "TeamDescription", "TeamFileError", "team_description", "team_feature_change",
           "team_from_file", "team_tensors"]

PREFIX = "team."
"""Prefix of the team recommender's tensors in the model's weights file."""
TEAM_FEATURES = {"members": list(MEMBER_FEATURES), "edges": list(EDGE_FEATURES), "sets": list(SET_FEATURES)}
"""The team features this release computes, by the model that reads them (member features sit
beside the agent-level ones, which the model file names apart)."""
_PARTS = tuple(TEAM_FEATURES)


class TeamFileError(CoachgraphError):
    """A team part of a model file that does not fit this release; the message names the field."""


class TeamDescription(BaseModel):
    """The team recommender's part of the model description."""

    model_config = ConfigDict(extra="forbid")
    config: TeamModelConfig
    members: ScorerConfig
    """The member scorer's shape."""
    stats: dict[str, Any]
    """`teamstats.team_stats_to_dict` of the training teams."""
    features: dict[str, list[str]] = {}
    """The team features it was trained on, by part (empty in files that predate the names)."""


def team_feature_change(doc: TeamDescription) -> str | None:
    """How the team features `doc` was trained on differ from this release's (None: they do not).

    >>> team_feature_change(TeamDescription(config=TeamModelConfig(), members=ScorerConfig(n_features=1), stats={},
    ...                                     features=TEAM_FEATURES))
    >>> team_feature_change(TeamDescription(config=TeamModelConfig(), members=ScorerConfig(n_features=1), stats={}))
    'team.features.members: not recorded'
    """
    for part, names in TEAM_FEATURES.items():
        saved = doc.features.get(part)
        if saved is None:
            return f"team.features.{part}: not recorded"
        if saved != names:
            new, gone = [n for n in names if n not in saved], [n for n in saved if n not in names]
            return f"team.features.{part}: this release adds {new or 'none'} and drops {gone or 'none'}"
    return None


def team_description(model: TeamModel) -> dict[str, Any]:
    """The JSON-ready description of `model`."""
    return {"config": asdict(model.config), "members": asdict(model.members.config),
            "stats": team_stats_to_dict(model.history.stats), "features": TEAM_FEATURES}


def team_tensors(model: TeamModel) -> dict[str, torch.Tensor]:
    """The weights of `model`'s three parts and its training task vectors, by name."""
    out = {f"{PREFIX}{part}.{k}": v.detach().contiguous()
           for part in _PARTS for k, v in getattr(model, part).state_dict().items()}
    out[f"{PREFIX}vectors"] = torch.from_numpy(model.history.vectors).contiguous()
    return out


def _load(module: torch.nn.Module, part: str, tensors: dict[str, torch.Tensor]) -> None:
    prefix = f"{PREFIX}{part}."
    try:
        module.load_state_dict({k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)})
    except RuntimeError as exc:
        raise TeamFileError(f"team.{part}: weights do not fit its shape: {str(exc).splitlines()[0]}") from None


def team_from_file(doc: TeamDescription, tensors: dict[str, torch.Tensor]) -> TeamModel:
    """The team recommender `team_description` and `team_tensors` wrote.

    Raises:
        TeamFileError: a field or a tensor does not fit (named in the message).
    """
    if doc.members.arch not in ARCHS:
        raise TeamFileError(f"team.members.arch: unknown architecture {doc.members.arch!r}")
    unknown = [g for g in doc.config.unread if g not in FEATURE_GROUPS]
    if unknown:
        raise TeamFileError(f"team.config.unread: unknown feature group {unknown[0]!r}")
    try:
        stats = team_stats_from_dict(doc.stats)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise TeamFileError(f"team.stats.{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    vectors = tensors.get(f"{PREFIX}vectors")
    if vectors is None or vectors.dim() != 2 or len(vectors) != stats.n_traces:
        raise TeamFileError("team.vectors: the task vectors do not match the training teams")
    members = Scorer(doc.members)
    edges, sets = StandardLinear(len(EDGE_FEATURES)), StandardLinear(len(SET_FEATURES))
    for part, module in zip(_PARTS, (members, edges, sets), strict=True):
        _load(module, part, tensors)
    return TeamModel(TeamHistory(stats, vectors.numpy()), members.eval(), edges.eval(), sets.eval(), doc.config)
