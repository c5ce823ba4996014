"""The team scorer's training rows and its decoding rule.

Every training trace offers the team scorer the candidate teams decoding would see for it (drawn
from its held-out member probabilities), the true team and perturbations of it (a member
replaced, dropped or added, as the reference method perturbs the true subtree). The decoding
rule is then the one whose picks are closest to the truth on each fold of the training traces,
scored by a team scorer fitted on the other folds (`choose_decode`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from coachgraph.calltree.schema import CallTree
from coachgraph.recommend.structure import team_structure
from coachgraph.recommend.team import TeamConfig
from coachgraph.recommend.teamfeatures import Neighbours
from coachgraph.recommend.teammodel import fit_sets
from coachgraph.recommend.teamrec import candidate_teams, decode_index
from coachgraph.recommend.teamstats import TeamStats

__all__ = ["DECODERS", "PERTURBATIONS", "SetRows", "choose_decode", "perturbed", "training_candidates"]

logger = logging.getLogger(__name__)

PERTURBATIONS = 6
"""Perturbed true teams among each training trace's candidates."""
DECODERS = (("mbr", 1.0), ("mbr", 2.0), ("mbr", 4.0), ("argmax", 1.0))
"""Decoding rules with the sharpness of their softmax, compared on folds of training traces
(the first wins ties)."""


def perturbed(team: Sequence[str], others: Sequence[str], rng: random.Random, largest: int) -> list[tuple[str, ...]]:
    """The true team with one member replaced, dropped or added, as the reference method perturbs it."""
    out = []
    for _ in range(PERTURBATIONS):
        members, how = list(team), rng.choice(("replace", "drop", "add"))
        outside = [m for m in others if m not in members]
        if how == "drop" and len(members) > 1:
            members.pop(rng.randrange(len(members)))
        elif how == "add" and outside and len(members) < largest:
            members.append(rng.choice(outside))
        elif outside:
            members[rng.randrange(len(members))] = rng.choice(outside)
        out.append(tuple(members))
    return out


@dataclass(slots=True)
class SetRows:
    """Candidate teams of every training trace: features, which are real, and gain; the first
    candidates of each trace, `teams`, are those decoding sees; `fold` is each trace's fold."""

    x: np.ndarray
    mask: np.ndarray
    gain: np.ndarray
    teams: list[list[tuple[str, ...]]]
    fold: np.ndarray


def training_candidates(tree: CallTree, ranked: list[str], near: Neighbours, pool: int, stats: TeamStats,
                rng: random.Random) -> tuple[list[tuple[str, ...]], int]:
    """Candidate teams of one training trace (those decoding would see first) and how many those are."""
    largest = stats.largest
    generated = candidate_teams(ranked, near, TeamConfig(max_size=largest), pool, stats)
    truth = tuple(m for m in ranked if m in team_structure(tree).members)
    extra = [truth, *perturbed(truth, ranked[:pool + 2], rng, largest)] if truth else []
    seen = {frozenset(t) for t in generated}
    extra = [t for t in dict.fromkeys(extra) if t and frozenset(t) not in seen]
    return [*generated, *extra], len(generated)


def choose_decode(rows: SetRows) -> tuple[str, float]:
    """The decoding rule and sharpness (`DECODERS`) that pick teams of the highest gain among the
    candidates decoding sees, each fold's traces scored by a team scorer fitted on the others: a
    scorer's own training traces would favour whatever rule suits its fitted scores."""
    scores = np.zeros(rows.mask.shape, np.float32)
    for k in np.unique(rows.fold):
        inside = rows.fold == k
        model = fit_sets(rows.x[~inside], rows.mask[~inside], rows.gain[~inside])
        with torch.no_grad():
            scores[inside] = model(torch.from_numpy(rows.x[inside])).numpy()
    result = {}
    for how, sharpness in DECODERS:
        picked = [rows.gain[r, decode_index(teams, scores[r, :len(teams)], how, sharpness)]
                  for r, teams in enumerate(rows.teams)]
        result[(how, sharpness)] = float(np.mean(picked)) if picked else 0.0
    logger.info("team decoding, held-out training traces: mean gain %s", result)
    return max(DECODERS, key=lambda rule: (result[rule], rule == DECODERS[0]))
