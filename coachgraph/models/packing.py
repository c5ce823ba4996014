"""Packed training rows: every completion of a prompt shares one copy of the prompt, and several
prompts share one row, with no padding.

A training step scores G completions of each prompt, and the prompt (system message, skills,
question) is several times longer than an answer. Laid out one completion per padded row, the
prompt runs through the network G times and padding fills the rest. Here a prompt and its
completions form a `Tree` (prompt tokens, then each completion's tokens after them), trees are
packed one after another into rows of at most a token budget, and a boolean attention mask
lets each token see exactly what it would see alone: its own prompt, and the earlier tokens of
its own completion. Position ids restart per prompt and continue from the prompt's end in every
completion, so the arithmetic is that of each sequence on its own.

A completion's last token is never an input (nothing after it is scored), so it is left out of
the row; its first token is predicted from the prompt's last position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

__all__ = ["PackedRow", "Tree", "pack_trees", "prompt_trees"]


@dataclass(slots=True)
class Tree:
    """A prompt and the weighted completions that follow it."""

    prompt: list[int]
    completions: list[list[int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Positions the tree takes in a row (completions without their last token).

        >>> Tree([1, 2, 3], [[4, 5], [6]], [1.0, 1.0]).size
        4
        """
        return len(self.prompt) + sum(len(c) - 1 for c in self.completions)


@dataclass(frozen=True, slots=True)
class PackedRow:
    """One forward pass: token ids, position ids and attention mask of a row, and which output
    position predicts which scored token with which weight."""

    ids: torch.Tensor
    """(L,) token ids."""
    positions: torch.Tensor
    """(L,) position ids, restarting at every prompt."""
    mask: torch.Tensor
    """(1, 1, L, L) boolean, True where a query position may attend to a key position."""
    predictors: torch.Tensor
    """(N,) row position whose output predicts each scored token."""
    targets: torch.Tensor
    """(N,) the scored tokens."""
    weights: torch.Tensor
    """(N,) each scored token's weight in the loss."""


def prompt_trees(prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
                 weights: Sequence[float]) -> list[Tree]:
    """Completions grouped under their prompt (equal token ids), prompts in first-seen order.
    Empty completions are dropped.

    >>> [(t.prompt, t.completions) for t in prompt_trees([[1], [2], [1]], [[5], [6], [7, 8]], [1, 1, 1])]
    [([1], [[5], [7, 8]]), ([2], [[6]])]
    """
    trees: dict[tuple[int, ...], Tree] = {}
    for prompt, completion, weight in zip(prompts, completions, weights, strict=True):
        if not completion:
            continue
        tree = trees.setdefault(tuple(prompt), Tree(list(prompt)))
        tree.completions.append(list(completion))
        tree.weights.append(float(weight))
    return list(trees.values())


def pack_trees(trees: Sequence[Tree], budget: int) -> list[PackedRow]:
    """Rows of consecutive trees, each at most `budget` positions (a larger tree gets a row alone).

    >>> rows = pack_trees([Tree([1, 2], [[3, 4]], [1.0]), Tree([5], [[6]], [2.0])], budget=8)
    >>> len(rows), rows[0].ids.tolist(), rows[0].positions.tolist()
    (1, [1, 2, 3, 5], [0, 1, 2, 0])
    >>> rows[0].predictors.tolist(), rows[0].targets.tolist(), rows[0].weights.tolist()
    ([1, 2, 3], [3, 4, 6], [1.0, 1.0, 2.0])
    """
    rows: list[list[Tree]] = []
    used = 0
    for tree in trees:
        if not rows or used + tree.size > budget:
            rows.append([])
            used = 0
        rows[-1].append(tree)
        used += tree.size
    return [_row(group) for group in rows]


def _row(trees: Sequence[Tree]) -> PackedRow:
    ids: list[int] = []
    positions: list[int] = []
    segment: list[int] = []  # which tree each position belongs to
    branch: list[int] = []  # 0 for prompt positions, k for completion k (from 1)
    predictors: list[int] = []
    targets: list[int] = []
    weights: list[float] = []
    for t, tree in enumerate(trees):
        last = len(ids) + len(tree.prompt) - 1
        ids += tree.prompt
        positions += range(len(tree.prompt))
        segment += [t] * len(tree.prompt)
        branch += [0] * len(tree.prompt)
        for k, (completion, weight) in enumerate(zip(tree.completions, tree.weights, strict=True), start=1):
            start = len(ids)
            predictors += [last, *range(start, start + len(completion) - 1)]
            targets += completion
            weights += [weight] * len(completion)
            ids += completion[:-1]
            positions += range(len(tree.prompt), len(tree.prompt) + len(completion) - 1)
            segment += [t] * (len(completion) - 1)
            branch += [k] * (len(completion) - 1)
    seg, br = torch.tensor(segment), torch.tensor(branch)
    order = torch.arange(len(ids))
    mask = ((seg[:, None] == seg[None, :]) & (order[None, :] <= order[:, None])
            & ((br[None, :] == 0) | (br[None, :] == br[:, None])))
    return PackedRow(ids=torch.tensor(ids), positions=torch.tensor(positions), mask=mask[None, None],
                     predictors=torch.tensor(predictors), targets=torch.tensor(targets),
                     weights=torch.tensor(weights))
