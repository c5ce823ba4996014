"""The mean of several scorers trained alike from different seeds.

A corpus of a few hundred traces leaves the listwise scorer's ranking of close candidates to the
luck of its initial weights and batch order; averaging the scores of members trained from
different seeds removes most of that variance at a cost linear in their number. Members are
trained independently (see `fitting.fit_scorer`), so the ensemble itself is never trained.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from coachgraph.recommend.scorer import Scorer, ScorerConfig

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """Scores, and their per-group explanations, averaged over member `Scorer`s."""

    def __init__(self, members: Sequence[Scorer]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.config: ScorerConfig = members[0].config

    def forward(self, batch: dict[str, torch.Tensor], targets: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        """Mean member scores ``(B, C)`` (-inf at padding); no loss, since members train alone."""
        return torch.stack([m(batch)[0] for m in self.members]).mean(0), None

    @torch.no_grad()
    def explain(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean scores and mean contribution of each feature group (as `Scorer.explain`)."""
        answers = [m.explain(batch) for m in self.members]
        scores = torch.stack([s for s, _ in answers]).mean(0)
        return scores, {g: torch.stack([parts[g] for _, parts in answers]).mean(0) for g in answers[0][1]}
