"""TRL's own GRPOTrainer trains a real (tiny) model on our curriculum's prompt stream and reward."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.agents.trl_bridge import CurriculumPrompts, CurriculumReward
from coachgraph.curriculum import TaskSpace, make_teacher
from coachgraph.tasks import ArithmeticDomain
from tests.models.conftest import build_tiny_checkpoint

pytestmark = pytest.mark.slow


def test_grpo_trainer_draws_from_the_teacher_and_reports_back(tmp_path: Path) -> None:
    from datasets import IterableDataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tiny = build_tiny_checkpoint(tmp_path / "tiny")
    teacher = make_teacher("sec", TaskSpace.of(("add-1d", "sub-1d")), seed=0)
    prompts = CurriculumPrompts(teacher, ArithmeticDomain(), seed=0, batch=2)
    reward = CurriculumReward(teacher)
    args = GRPOConfig(output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4,
                      num_generations=2, max_completion_length=8, report_to=[], use_cpu=True,
                      save_strategy="no", seed=0)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny),
                          processing_class=AutoTokenizer.from_pretrained(tiny), reward_funcs=reward, args=args,
                          train_dataset=IterableDataset.from_generator(lambda: iter(prompts)))
    trainer.train()
    assert trainer.state.global_step == 2 and reward.graded == 8
    assert teacher.state_dict()["sampled"] >= 4  # every prompt came from the teacher
