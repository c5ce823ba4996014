"""The verl curriculum sampler: arms of rows, rollouts grouped into outcomes, teacher updates, and
(where verl is installed) verl's own base class, batch type and sampler factory."""

from __future__ import annotations

import pytest
from datasets import Dataset

from coachgraph.curriculum.verl_sampler import CurriculumSampler, group_outcomes, row_labels
from coachgraph.errors import ConfigError, InputError

ROWS = [{"prompt": f"q{i}", "data_source": "math" if i < 4 else "code",
         "extra_info": {"index": i, "skill": f"s{i % 3}"}} for i in range(6)]


def _config(**options: object) -> dict[str, object]:
    return {"dataloader_num_workers": 0, "sampler": {"class_name": "CurriculumSampler", **options}}


class _Frame:
    """The shape of verl's RLHFDataset: rows behind a Hugging Face table called `dataframe`."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.dataframe = Dataset.from_list(rows)

    def __len__(self) -> int:
        return len(self.dataframe)

    def __getitem__(self, i: int) -> dict[str, object]:
        raise AssertionError("labels must come from the table, not from tokenised rows")


def test_labels_from_rows_or_from_the_table() -> None:
    assert row_labels(ROWS, "extra_info.skill") == ["s0", "s1", "s2", "s0", "s1", "s2"]
    assert row_labels(_Frame(ROWS), "data_source") == ["math"] * 4 + ["code"] * 2
    with pytest.raises(InputError, match="dataset row 0: no field 'extra_info.level'"):
        row_labels(ROWS, "extra_info.level")


def test_rollouts_group_by_prompt() -> None:
    outcomes = group_outcomes(["a", "a", "b", "b"], ["u1", "u1", "u2", "u2"], [1.0, 0.0, 1.0, 1.0],
                              advantages=[0.7, -0.7, 0.0, 0.0])
    assert [(o.category, o.rewards, o.advantages) for o in outcomes] == [
        ("a", [1.0, 0.0], [0.7, -0.7]), ("b", [1.0, 1.0], [0.0, 0.0])]
    with pytest.raises(InputError, match="different arms"):
        group_outcomes(["a", "b"], ["u", "u"], [1.0, 0.0])


def test_draws_follow_the_teacher_and_learn_from_batches() -> None:
    sampler = CurriculumSampler(ROWS, _config(teacher="learnability", seed=3))
    assert len(sampler) == 6 and sorted(sampler.rows) == [str(i) for i in range(6)]
    assert all(0 <= i < 6 for i in sampler)
    # prompts 0-3 solved by every rollout, 4 failed by every one, 5 half the time
    rows = [ROWS[i] for i in range(6) for _ in range(2)]
    groups = [f"u{i}" for i in range(6) for _ in range(2)]
    rewards = [1.0] * 8 + [0.0, 0.0, 1.0, 0.0]
    sampler.observe(rows, groups, rewards)
    assert set(sampler.next_index() for _ in range(200)) == {5}  # only p(1 - p) > 0 remains


def test_category_arms_draw_rows_of_the_chosen_arm() -> None:
    sampler = CurriculumSampler(ROWS, _config(teacher="sec", arm_key="data_source", length=50,
                                              teacher_options={"sec": {"alpha": 1.0}}))
    assert sampler.rows == {"math": [0, 1, 2, 3], "code": [4, 5]} and len(list(sampler)) == 50
    sampler.observe([ROWS[4], ROWS[4]], ["u", "u"], [1.0, 0.0])
    assert sampler.teacher.q == {"math": 0.0, "code": 1.0}  # type: ignore[attr-defined]


def test_state_round_trip_and_bad_options() -> None:
    first = CurriculumSampler(ROWS, _config(teacher="plr", seed=1))
    [first.next_index() for _ in range(4)]
    clone = CurriculumSampler(ROWS, _config(teacher="plr", seed=9))
    clone.load_state_dict(first.state_dict())
    assert [clone.next_index() for _ in range(10)] == [first.next_index() for _ in range(10)]
    with pytest.raises(ConfigError, match="unknown data.sampler option"):
        CurriculumSampler(ROWS, _config(teachr="sec"))


def test_verl_base_class_batch_and_factory() -> None:
    pytest.importorskip("verl", reason="verl is not installed (pip install 'coachgraph[verl]')")
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    from verl.trainer.main_ppo import create_rl_sampler

    config = OmegaConf.create(_config(class_path="pkg://coachgraph.curriculum.verl_sampler",
                                      teacher="learnability"))
    sampler = create_rl_sampler(config, ROWS)
    assert isinstance(sampler, CurriculumSampler) and isinstance(sampler, AbstractCurriculumSampler)
    # two prompts x two rollouts; rewards are the sums of token-level scores
    scores = torch.tensor([[0.0, 1.0], [0.0, 0.0], [0.5, 0.5], [1.0, 0.0]])
    batch = DataProto.from_dict(
        tensors={"token_level_scores": scores, "response_mask": torch.ones(4, 2),
                 "advantages": torch.tensor([[0.7, 0.7], [-0.7, -0.7], [0.0, 0.0], [0.0, 0.0]])},
        non_tensors={"uid": np.array(["u0", "u0", "u1", "u1"], dtype=object),
                     "extra_info": np.array([ROWS[0]["extra_info"]] * 2 + [ROWS[1]["extra_info"]] * 2,
                                            dtype=object)})
    sampler.update(batch)
    assert sampler.teacher.success["0"] == 0.5 and sampler.teacher.success["1"] == 1.0  # type: ignore[attr-defined]
