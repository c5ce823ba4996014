"""A verl curriculum sampler driven by any coachgraph teacher.

verl (the volcengine RL trainer) builds its training dataloader with a custom sampler named in
the data config, and after every training step hands the step's batch to the sampler's
`update` when the sampler is an `AbstractCurriculumSampler`. `CurriculumSampler` is one: each
dataset row belongs to an arm (a field of the row, by default ``extra_info.index``, one arm per
prompt; ``data_source`` or ``extra_info.skill`` give one arm per source or skill), the teacher
chooses an arm for every draw and the sampler yields a random row of that arm. `update` turns the
batch into one `Outcome` per prompt (its rollouts grouped by verl's ``uid``, each rollout's reward
the sum of its token-level scores, with the trainer's advantages) and feeds the teacher.

Use it from a verl launch (options under ``data.sampler``; ``+`` adds keys verl does not
declare)::

    data.sampler.class_path=pkg://coachgraph.curriculum.verl_sampler \\
    data.sampler.class_name=CurriculumSampler data.dataloader_num_workers=0 \\
    +data.sampler.teacher=learnability +data.sampler.arm_key=extra_info.index

With verl installed the class derives from verl's `AbstractCurriculumSampler`; without it, from
torch's `Sampler`, so that the module imports (and its logic runs) anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence, Sized
from typing import Any

import numpy as np
from torch.utils.data import Sampler

from coachgraph.curriculum.base import TaskSpace, Teacher
from coachgraph.curriculum.registry import make_teacher
from coachgraph.errors import ConfigError, InputError
from coachgraph.types import Outcome

__all__ = ["SAMPLER_DEFAULTS", "CurriculumSampler", "group_outcomes", "row_labels", "row_value"]

logger = logging.getLogger(__name__)

SAMPLER_DEFAULTS: dict[str, Any] = {
    "teacher": "sec",
    "seed": 0,
    "arm_key": "extra_info.index",
    "teacher_options": {},
    "length": None,
}
"""Options read from ``data.sampler`` (class_path and class_name are verl's own):
teacher spec, run seed, the row field naming each row's arm, per-teacher config fields, and
draws per epoch (None: the dataset's length)."""


def _verl_base() -> type:
    try:
        from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    except ImportError:
        return Sampler
    return AbstractCurriculumSampler


def row_value(row: Mapping[str, Any], key: str, where: str) -> str:
    """The field at dotted `key` of `row` as text.

    >>> row_value({"extra_info": {"index": 7}}, "extra_info.index", "row 0")
    '7'

    Raises:
        InputError: the field is missing; the message names `key` and `where`.
    """
    value: Any = row
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise InputError(f"no field {key!r} (set data.sampler.arm_key to a field every row has)",
                             source=where)
        value = value[part]
    return str(value)


def row_labels(data_source: Sized, key: str) -> list[str]:
    """The arm of every row: read from the dataset's table when it has one (verl's
    `RLHFDataset.dataframe`), else row by row."""
    top = key.split(".")[0]
    frame = getattr(data_source, "dataframe", None)
    if frame is not None and top in getattr(frame, "column_names", ()):
        column = frame[top]
        return [row_value({top: value}, key, f"dataset row {i}") for i, value in enumerate(column)]
    return [row_value(data_source[i], key, f"dataset row {i}")  # type: ignore[index]
            for i in range(len(data_source))]


def group_outcomes(labels: Sequence[str], groups: Sequence[str], rewards: Sequence[float],
                   advantages: Sequence[float] | None = None) -> list[Outcome]:
    """One outcome per group of rollouts (a prompt's samples), in order of first appearance.

    >>> [(o.category, o.rewards) for o in group_outcomes(["a", "b", "a"], ["u", "v", "u"],
    ...                                                  [1.0, 0.0, 0.0])]
    [('a', [1.0, 0.0]), ('b', [0.0])]
    """
    order: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        order.setdefault(group, []).append(i)
    outcomes = []
    for group, rows in order.items():
        arms = {labels[i] for i in rows}
        if len(arms) > 1:
            raise InputError(f"rollouts of one prompt carry different arms {sorted(arms)}",
                             source=f"batch group {group}")
        adv = [float(advantages[i]) for i in rows] if advantages is not None else None
        outcomes.append(Outcome(task_id=group, skill=labels[rows[0]], category=labels[rows[0]],
                                rewards=[float(rewards[i]) for i in rows], advantages=adv))
    return outcomes


def _options(data_config: Any) -> dict[str, Any]:
    given = (data_config or {}).get("sampler") or {}
    known = set(SAMPLER_DEFAULTS) | {"class_path", "class_name"}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(f"unknown data.sampler option(s) {unknown}; known: {sorted(known)}")
    options = {k: given.get(k, v) for k, v in SAMPLER_DEFAULTS.items()}
    options["teacher_options"] = {name: dict(fields) for name, fields
                                  in dict(options["teacher_options"] or {}).items()}
    return options


class CurriculumSampler(_verl_base()):  # type: ignore[misc]
    """Dataset indices where a teacher points, updated after every training batch.

    Args:
        data_source: the training dataset (verl's `RLHFDataset` or any sized, indexable rows).
        data_config: verl's data config; options are read from its ``sampler`` section
            (`SAMPLER_DEFAULTS`).
    """

    def __init__(self, data_source: Sized, data_config: Any) -> None:
        options = _options(data_config)
        self.arm_key: str = options["arm_key"]
        self.labels = row_labels(data_source, self.arm_key)
        if not self.labels:
            raise InputError("the training dataset has no rows", source="data.train_files")
        self.rows: dict[str, list[int]] = {}
        for i, label in enumerate(self.labels):
            self.rows.setdefault(label, []).append(i)
        seed = int(options["seed"])
        self.teacher: Teacher = make_teacher(options["teacher"], TaskSpace.of(list(self.rows)),
                                             seed=seed, configs=options["teacher_options"])
        self.rng = np.random.default_rng([seed, len(self.labels)])
        self.length = int(options["length"] or len(self.labels))
        logger.info("curriculum sampler: teacher %s over %d arms of %d rows", options["teacher"],
                    len(self.rows), len(self.labels))

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        for _ in range(self.length):
            yield self.next_index()

    def next_index(self) -> int:
        """One row of the arm the teacher chooses now."""
        rows = self.rows[self.teacher.sample(1)[0].skill]
        return rows[int(self.rng.integers(len(rows)))]

    def observe(self, rows: Sequence[Mapping[str, Any]], groups: Sequence[str],
                rewards: Sequence[float], advantages: Sequence[float] | None = None) -> None:
        """Feed the teacher one training batch given as plain rows, groups and rewards."""
        labels = [row_value(r, self.arm_key, f"batch row {i}") for i, r in enumerate(rows)]
        self.teacher.update(group_outcomes(labels, groups, rewards, advantages))

    def update(self, batch: Any) -> None:
        """Feed the teacher a verl `DataProto` batch (called by verl after every step)."""
        extra = batch.non_tensor_batch
        size = len(batch)
        rows = [{k: v[i] for k, v in extra.items()} for i in range(size)]
        groups = [str(g) for g in extra["uid"]] if "uid" in extra else [str(i) for i in range(size)]
        tensors = batch.batch
        scores = tensors["token_level_scores"] if "token_level_scores" in tensors.keys() \
            else tensors["token_level_rewards"]
        advantages = None
        if "advantages" in tensors.keys() and "response_mask" in tensors.keys():
            mask = tensors["response_mask"].float()
            advantages = ((tensors["advantages"] * mask).sum(-1) / mask.sum(-1).clamp(min=1)).tolist()
        self.observe(rows, groups, scores.sum(-1).tolist(), advantages)

    def state_dict(self) -> dict[str, Any]:
        """The teacher's and the row generator's state (torchdata's stateful dataloader saves it)."""
        return {"teacher": self.teacher.state_dict(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.teacher.load_state_dict(state["teacher"])
        self.rng.bit_generator.state = state["rng"]
