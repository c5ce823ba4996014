"""How embedding models group texts into forward passes (shared by the PyTorch and ONNX backends)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DIRECT_MAX", "length_groups"]

DIRECT_MAX = 8
"""Batches up to this size (a search query and its clauses) skip `encode`."""

_PAD_SLACK = 32
"""Padding tokens a group may carry before a text starts a group of its own: about what the fixed
cost of one more forward call is worth on a CPU."""


def length_groups(lengths: Sequence[int], slack: int = _PAD_SLACK) -> list[list[int]]:
    """Indices grouped for batching, longest first, so no group pads more than `slack` tokens.

    >>> length_groups([70, 18, 17, 20, 15])
    [[0], [3, 1, 2, 4]]
    """
    groups: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda j: -lengths[j]):
        if groups:
            group = groups[-1]
            padded = lengths[group[0]] * (len(group) + 1) - sum(lengths[j] for j in group) - lengths[i]
            if padded <= slack:
                group.append(i)
                continue
        groups.append([i])
    return groups
