"""Helpers for benchmarks that compare teachers over seeds: teacher variants written as text,
intervals over seeds, and the first reading that reaches a target."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from scipy.stats import t as student_t

from coachgraph.curriculum.registry import TEACHERS

__all__ = ["Variant", "first_at_least", "mean_interval", "parse_variant"]


@dataclass(frozen=True, slots=True)
class Variant:
    """A teacher spec with options for its base teacher, under a label."""

    label: str
    spec: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The base teacher's name (the last part of the spec)."""
        return self.spec.split("+")[-1].strip()

    @property
    def configs(self) -> dict[str, dict[str, Any]]:
        """`make_teacher` configs for the options."""
        return {self.base: dict(self.options)} if self.options else {}

    def settings(self) -> dict[str, Any]:
        """Every option of the base teacher as it runs: its defaults with the overrides."""
        config_type = TEACHERS[self.base].config_type
        defaults = asdict(config_type()) if is_dataclass(config_type) else {}
        return {**defaults, **self.options}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_variant(text: str) -> Variant:
    """Read ``spec[:field=value]...``; values are JSON where they parse, else strings.

    >>> v = parse_variant("alp-bins:bins=8:window=20")
    >>> v.spec, v.options, v.label
    ('alp-bins', {'bins': 8, 'window': 20}, 'alp-bins:bins=8:window=20')

    Raises:
        ValueError: an option without ``=``, or an unknown teacher.
    """
    spec, *parts = text.strip().split(":")
    options = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise ValueError(f"teacher option {part!r} in {text!r} is not FIELD=VALUE")
        options[name.strip()] = _value(value.strip())
    variant = Variant(text.strip(), spec.strip(), options)
    unknown = [n for n in variant.spec.split("+") if n.strip() not in TEACHERS]
    if unknown:
        raise ValueError(f"unknown teacher {unknown[0]!r} in {text!r}; known: {', '.join(sorted(TEACHERS))}")
    return variant


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean over seeds (the mean twice for one value).

    >>> [round(x, 3) for x in mean_interval([1.0, 2.0, 3.0])]
    [2.0, -0.484, 4.484]
    """
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    t = float(student_t.ppf(0.5 + confidence / 2, len(values) - 1))
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def first_at_least(readings: Sequence[float], target: float) -> int | None:
    """Index of the first reading at or above `target` (None if none is).

    >>> first_at_least([1, 5, 9, 12], 9), first_at_least([1, 2], 9)
    (2, None)
    """
    return next((i for i, r in enumerate(readings) if r >= target), None)
