"""Teachers looked up by name, and composition of wrappers around a base teacher.

A spec such as ``"prereq-gate+format-ladder+sec"`` reads outside-in: the last name is the base
teacher, every name before it wraps what follows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

import numpy as np

from coachgraph.curriculum.base import TaskSpace, Teacher, TeacherWrapper

__all__ = ["TEACHERS", "make_teacher", "register_teacher"]

TEACHERS: dict[str, type[Teacher]] = {}
"""Registered teacher classes keyed by name (base teachers and wrappers)."""

T = TypeVar("T", bound=type[Teacher])


def register_teacher(name: str) -> Callable[[T], T]:
    """Class decorator adding a teacher to `TEACHERS` under `name`."""

    def register(cls: T) -> T:
        if name in TEACHERS:
            raise ValueError(f"teacher {name!r} is already registered")
        cls.name = name
        TEACHERS[name] = cls
        return cls

    return register


def _lookup(name: str) -> type[Teacher]:
    try:
        return TEACHERS[name]
    except KeyError:
        known = ", ".join(sorted(TEACHERS))
        raise KeyError(f"unknown teacher {name!r}; known: {known}") from None


def _config(cls: type[Teacher], given: Any) -> Any:
    """A config instance from an instance, a dict of its fields (as read from JSON), or None."""
    if given is None or not isinstance(given, Mapping):
        return given
    if not is_dataclass(cls.config_type):
        raise TypeError(f"teacher {cls.name!r} takes no config")
    known = {f.name for f in fields(cls.config_type)}
    unknown = set(given) - known
    if unknown:
        raise TypeError(f"unknown option(s) for {cls.name!r}: {', '.join(sorted(unknown))}")
    return cls.config_type(**given)


def make_teacher(spec: str, space: TaskSpace, *, seed: int = 0,
                 configs: Mapping[str, Any] | None = None) -> Teacher:
    """Build the teacher named by `spec`, each part with its own seed derived from `seed`.

    Args:
        spec: teacher names joined by ``+``, wrappers first, the base teacher last.
        space: the task space of the base teacher.
        seed: the run seed; parts get independent streams spawned from it.
        configs: per-name config instances or dicts of config fields.

    Example:
        >>> t = make_teacher("format-ladder+sec", TaskSpace.of(["a", "b"]), seed=1)
        >>> t.name, t.base.name
        ('format-ladder', 'sec')
    """
    names = [n.strip() for n in spec.split("+")]
    configs = configs or {}
    seeds = np.random.SeedSequence(seed).spawn(len(names))
    base_cls = _lookup(names[-1])
    if issubclass(base_cls, TeacherWrapper):
        raise ValueError(f"{names[-1]!r} wraps another teacher and cannot come last in {spec!r}")
    teacher = base_cls(space, _config(base_cls, configs.get(names[-1])), seed=seeds[-1])
    for name, part_seed in zip(reversed(names[:-1]), reversed(seeds[:-1]), strict=True):
        cls = _lookup(name)
        if not issubclass(cls, TeacherWrapper):
            raise ValueError(f"{name!r} is a base teacher and can only come last in {spec!r}")
        teacher = cls(teacher, _config(cls, configs.get(name)), seed=part_seed)
    return teacher
