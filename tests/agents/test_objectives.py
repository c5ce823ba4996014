"""The student's objectives against losses computed by hand from each answer's log-likelihood.

Each answer's log-likelihood is read from a plain forward pass of the tiny model over prompt and
answer alone; the objective's loss (the value before its optimiser step, computed on packed rows)
must equal the paper's formula written out over those numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from coachgraph.agents import OBJECTIVES, ObjectiveWeights, reference_solution
from coachgraph.models import load_chat_model
from coachgraph.models.training import StudentTrainer, TrainConfig
from coachgraph.types import Attempt, StepItem, Task, group_advantages
from tests.models.conftest import build_tiny_checkpoint


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-objectives"))


def _trainer(path: Path) -> StudentTrainer:
    lm = load_chat_model(f"hf:{path}", precision="fp32", max_tokens=6).lm
    return StudentTrainer(lm, TrainConfig(lr=1e-4, pack_tokens=64))


def _task(n: int) -> Task:
    return Task(id=f"t{n}", skill="add-1d", category="add-1d", question=f"what is {n} plus three",
                answer=str(n + 3), steps=[f"{n} + 3 = {n + 3}"])


def _item(trainer: StudentTrainer, n: int, answers: list[tuple[str, bool]]) -> StepItem:
    task = _task(n)
    attempts = [Attempt(task_id=task.id, text=text, correct=ok, sample=j, token_ids=trainer.target_ids(text))
                for j, (text, ok) in enumerate(answers)]
    return StepItem(task=task, prompt=[{"role": "user", "content": task.question}], attempts=attempts)


def _items(trainer: StudentTrainer) -> list[StepItem]:
    """One problem half solved (a right answer twice), one never solved, one always solved."""
    return [
        _item(trainer, 2, [("the answer is five", True), ("one two", False), ("the answer is five", True),
                           ("a cat sat on a mat", False)]),
        _item(trainer, 4, [("six", False), ("near the river", False)]),
        _item(trainer, 5, [("eight", True), ("eight", True)]),
    ]


def _logp(trainer: StudentTrainer, item: StepItem, ids: list[int]) -> float:
    """Sum of log pi(y_t | x, y_<t) from an ordinary forward over prompt and answer alone."""
    lm = trainer.lm
    prompt = lm.tokenizer(lm.render(item.prompt), add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([prompt + ids])).logits[0, len(prompt) - 1:-1]
    return float(torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids)[:, None]).sum())


def _loss(tiny: Path, name: str, weights: ObjectiveWeights | None = None) -> tuple[float, StudentTrainer, list[StepItem]]:
    trainer = _trainer(tiny)
    items = _items(trainer)
    metrics = OBJECTIVES[name](trainer, items, weights or ObjectiveWeights())
    fresh = _trainer(tiny)  # the same weights as before the step
    return metrics["loss"], fresh, _items(fresh)


def test_sft_is_the_token_mean_nll_of_distinct_right_answers_or_the_reference(tiny: Path) -> None:
    loss, t, items = _loss(tiny, "sft")
    targets = [(items[0], t.target_ids("the answer is five")),
               (items[1], t.target_ids(reference_solution(items[1].task))),
               (items[2], t.target_ids("eight"))]
    tokens = sum(len(ids) for _, ids in targets)
    assert loss == pytest.approx(-sum(_logp(t, item, ids) for item, ids in targets) / tokens, rel=1e-4)


def test_grpo_weighs_answers_by_their_group_advantage(tiny: Path) -> None:
    loss, t, items = _loss(tiny, "grpo")
    advantages = group_advantages([1.0, 0.0, 1.0, 0.0])  # the other groups are flat: no signal
    assert advantages == [1.0, -1.0, 1.0, -1.0]
    item = items[0]
    terms = [a * _logp(t, item, att.token_ids) for a, att in zip(advantages, item.attempts, strict=True)]
    tokens = sum(len(att.token_ids) for att in item.attempts)
    assert loss == pytest.approx(-sum(terms) / tokens, rel=1e-4)


def test_nsr_pushes_down_wrong_answers_over_all_sampled_tokens(tiny: Path) -> None:
    loss, t, items = _loss(tiny, "nsr")
    everything = sum(len(a.token_ids) for item in items for a in item.attempts)
    wrong = sum(_logp(t, item, a.token_ids) for item in items for a in item.attempts if not a.correct)
    # L_NSR = (1/N) * sum over wrong answers of log pi(y): minimising it lowers their likelihood.
    assert loss == pytest.approx(wrong / everything, rel=1e-4)


def test_w_reinforce_is_lambda_psr_plus_nsr(tiny: Path) -> None:
    lam = 0.25
    loss, t, items = _loss(tiny, "w-reinforce", ObjectiveWeights(positive=lam))
    everything = sum(len(a.token_ids) for item in items for a in item.attempts)
    right = sum(_logp(t, item, a.token_ids) for item in items for a in item.attempts if a.correct)
    wrong = sum(_logp(t, item, a.token_ids) for item in items for a in item.attempts if not a.correct)
    assert loss == pytest.approx((-lam * right + wrong) / everything, rel=1e-4)


def test_redi_averages_length_normalised_pairs(tiny: Path) -> None:
    alpha = 0.5
    loss, t, items = _loss(tiny, "redi", ObjectiveWeights(negative=alpha))
    right = t.target_ids("the answer is five")
    reference = t.target_ids(reference_solution(items[1].task))
    pairs = [(items[0], right, t.target_ids("one two")), (items[0], right, t.target_ids("a cat sat on a mat")),
             (items[1], reference, t.target_ids("six")), (items[1], reference, t.target_ids("near the river"))]
    expected = sum(-_logp(t, item, good) / len(good) + alpha * _logp(t, item, bad) / len(bad)
                   for item, good, bad in pairs) / len(pairs)
    assert loss == pytest.approx(expected, rel=1e-4)


def test_objectives_move_the_policy_the_way_their_signs_say(tiny: Path) -> None:
    for name, wrong_falls, right_rises in (("nsr", True, False), ("redi", True, True), ("sft", False, True)):
        trainer = _trainer(tiny)
        trainer.optimizer.param_groups[0]["lr"] = 3e-3
        items = _items(trainer)
        item = items[0]
        before = (_logp(trainer, item, item.attempts[0].token_ids), _logp(trainer, item, item.attempts[1].token_ids))
        for _ in range(3):
            OBJECTIVES[name](trainer, items, ObjectiveWeights())
        after = (_logp(trainer, item, item.attempts[0].token_ids), _logp(trainer, item, item.attempts[1].token_ids))
        if wrong_falls:
            assert after[1] < before[1], name
        if right_rises:
            assert after[0] > before[0], name


def test_nsr_without_a_wrong_answer_takes_no_step(tiny: Path) -> None:
    trainer = _trainer(tiny)
    metrics = OBJECTIVES["nsr"](trainer, [_items(trainer)[2]], ObjectiveWeights())
    assert metrics == {"loss": 0.0, "tokens": 0.0, "updated": False} and trainer.steps == 0
