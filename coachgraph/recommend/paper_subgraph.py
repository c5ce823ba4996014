"""The reference method's system-level scorer, without its label leak, as a team baseline.

The reference code scores a candidate subtree with a linear function of four factors (relevance
to the task, history, cooperation, structure) trained with a listwise softmax loss to rank the
true subtree above perturbed copies of it (members replaced, dropped or added; callers moved).
Two of its factors read the label: cooperation is 0.9 for any candidate whose id names the
ground truth, and history is a frequency per candidate type (ground truth or random). Here
history is the members' share of training teams, and cooperation is the reference size rule
alone (small trees for short tasks, larger ones for long tasks). A query has no true subtree to
perturb: its candidates are the teams of the most similar training tasks, kept to the pool, and
perturbations of them, as the reference method retrieves candidate trees by similarity.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from coachgraph.recommend.catalog import Catalog
from coachgraph.recommend.structure import ENTRY, TeamStructure
from coachgraph.recommend.team_baselines import (
    Prediction,
    TeamFit,
    TeamMethod,
    register_team_method,
)
from coachgraph.recommend.teamfeatures import neighbours
from coachgraph.recommend.teamrec import TeamQuery
from coachgraph.recommend.teamstats import TeamHistory

__all__ = ["PaperSubgraph", "perturb"]

PERTURBED = 20
"""Perturbed copies of the true subtree per training trace (half members, half callers), as in the reference."""
RETRIEVED = 10
"""Teams of similar training tasks a query's candidates start from."""


def _without(team: TeamStructure, gone: str) -> TeamStructure:
    edges = {(a, b) for a, b in team.edges if gone not in (a, b)}
    members = team.members - {gone}
    edges |= {(ENTRY, m) for m in members if not any(b == m for _, b in edges)}
    return TeamStructure(frozenset(members), frozenset(edges))


def perturb(team: TeamStructure, pool: Sequence[str], rng: random.Random, members: bool) -> TeamStructure:
    """`team` with one member replaced, dropped or added (`members`), else one member's caller moved."""
    names, outside = sorted(team.members), [p for p in pool if p not in team.members]
    if members:
        how = rng.choice(("replace", "drop", "add"))
        if how == "drop" and len(names) > 1:
            return _without(team, rng.choice(names))
        if how == "add" and outside:
            new = rng.choice(outside)
            return TeamStructure(team.members | {new}, team.edges | {(rng.choice([ENTRY, *names]), new)})
        if outside:
            old, new = rng.choice(names), rng.choice(outside)
            edges = {(new if a == old else a, new if b == old else b) for a, b in team.edges}
            return TeamStructure((team.members - {old}) | {new}, frozenset(edges))
        return team
    moved = rng.choice(names)
    edges = {(a, b) for a, b in team.edges if b != moved}
    return TeamStructure(team.members, frozenset(edges | {(rng.choice([ENTRY, *(set(names) - {moved})]), moved)}))


def _factors(catalog: Catalog, history: TeamHistory, task: str, vector: np.ndarray, team: TeamStructure,
             others: Sequence[TeamStructure]) -> np.ndarray:
    """Relevance, history, cooperation and structure of a candidate subtree (each in [0, 1])."""
    rows = catalog.positions(sorted(team.members))
    rows = rows[rows >= 0]
    centre = catalog.vectors[rows].mean(0) if len(rows) else np.zeros_like(vector)
    norm = float(np.linalg.norm(centre))
    relevance = (float(centre @ vector) / norm + 1.0) / 2.0 if norm else 0.0
    stats = history.stats
    past = np.mean([stats.member.get(m, 0) / max(stats.n_traces, 1) for m in team.members]) * 0.5 + 0.5
    nodes = len(team.members) + 1  # the subtree's root and its members
    size = 1.0 / (1.0 + math.log1p(nodes)) if len(task.split()) < 5 else min(1.0, math.log1p(nodes) / 5.0)
    mean_other = np.mean([len(o.members) + 1 for o in others]) if others else nodes
    unique = min(1.0, abs(nodes - mean_other) / max(mean_other, 1.0) / 2.0)
    return np.array([relevance, past, size * 0.8 + 0.2, 0.6 * min(1.0, len(team.edges) / nodes) + 0.4 * unique],
                    np.float32)


@register_team_method("paper-subgraph")
class PaperSubgraph(TeamMethod):
    """See the module docstring."""

    def fit(self, data: TeamFit) -> None:
        self.catalog, self.history = data.rec.catalog, data.history
        rng = random.Random(data.seed)
        queries = data.queries()
        vectors = self.catalog.embed_queries([q.task for q in queries])
        groups = []
        for q, v, truth in zip(queries, vectors, data.truths(), strict=True):
            cands = [truth, *(perturb(truth, q.candidates, rng, i < PERTURBED // 2) for i in range(PERTURBED))]
            groups.append(np.stack([_factors(self.catalog, self.history, q.task, v, c, cands) for c in cands]))
        self.w = self._train(np.stack(groups)) if groups else torch.ones(4)

    @staticmethod
    def _train(x: np.ndarray, l2: float = 0.01, steps: int = 300) -> torch.Tensor:
        """Weights of the listwise softmax loss with the true subtree (index 0) as the target."""
        xt = torch.from_numpy(x)
        w = torch.ones(x.shape[-1], requires_grad=True)
        optimizer = torch.optim.Adam([w], lr=0.01)
        target = torch.zeros(len(x), dtype=torch.long)
        for _ in range(steps):
            loss = F.cross_entropy(xt @ w, target) + l2 * w.square().sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return w.detach()

    def _candidates(self, query: TeamQuery, vector: np.ndarray, rng: random.Random) -> list[TeamStructure]:
        pool, found = set(query.candidates), {}
        for past in neighbours(self.history, vector, RETRIEVED).teams:
            team = past
            for gone in past.members - pool:
                team = _without(team, gone)
            if team.members:
                for cand in (team, perturb(team, query.candidates, rng, True), perturb(team, query.candidates, rng, False)):
                    found.setdefault((cand.members, cand.edges), cand)
        return list(found.values())

    def predict(self, queries: Sequence[TeamQuery]) -> list[Prediction]:
        rng = random.Random(0)
        vectors = self.catalog.embed_queries([q.task for q in queries]) if queries else []
        out: list[Prediction] = []
        for q, v in zip(queries, vectors, strict=True):
            cands = self._candidates(q, v, rng)
            if not cands:
                out.append(((), frozenset()))
                continue
            x = torch.from_numpy(np.stack([_factors(self.catalog, self.history, q.task, v, c, cands) for c in cands]))
            best = cands[int(torch.argmax(x @ self.w))]
            out.append((tuple(sorted(best.members)), best.edges))
        return out
