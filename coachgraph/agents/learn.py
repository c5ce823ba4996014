"""Learning from a step: the student's training objectives and the curriculum's outcomes.

An objective turns a step's graded items into one optimiser step of the student, a weighted
log-likelihood ``-(1/D) * sum_i w_i * sum_t log pi(y_it | x_i, y_i<t)`` over completions
(`StudentTrainer.policy_step`); the objectives differ in their weights `w_i` and normaliser `D`.
With `N` the tokens of every sampled answer of the step, `r_i` in {1, 0} whether answer i is
correct, and `|y|` the tokens of answer y:

- ``sft``: imitate each problem's distinct correct answers, or its verified reference solution
  where every sample failed; ``w = 1``, `D` = the tokens imitated.
- ``grpo``: ``w_i = A_i = (r_i - mean(r)) / std(r)`` within the problem's group (critic rewards,
  process reward included); `D` = the tokens of answers with ``A_i != 0``.
- ``nsr``: negative sample reinforcement, only the wrong answers pushed down: ``w_i = -1`` for
  ``r_i = 0`` and 0 otherwise; ``D = N`` (the token mean over the whole batch of the paper's
  verl code). Zhu et al., "The Surprising Effectiveness of Negative Reinforcement in LLM
  Reasoning" (2025): ``L_NSR = -E[sum_{y: r=-1} -pi(y|x)]``.
- ``w-reinforce``: their weighted REINFORCE, ``L = lambda * L_PSR + L_NSR``: ``w_i = lambda``
  for correct answers, -1 for wrong ones, ``D = N``; lambda = `ObjectiveWeights.positive`
  (0.1 in the paper).
- ``redi``: Xu et al., "Harnessing Negative Signals: Reinforcement Distillation from Teacher Data
  for LLM Reasoning" (2025): over pairs of a positive ``y_w`` and a negative ``y_l`` of the same
  problem, ``L = (1/P) * sum_pairs [-log pi(y_w|x) / |y_w| + alpha * log pi(y_l|x) / |y_l|]``,
  alpha = `ObjectiveWeights.negative` (0.8 in the paper). Every wrong answer is one pair's
  negative; the positives are the problem's distinct correct answers taken in turn, or its
  reference solution where none is correct (the paper's teacher trace); a problem every sample
  solved gives no pair. In weights: ``w = k / (P * |y_w|)`` for a positive in k pairs,
  ``w = -alpha / (P * |y_l|)`` per negative, ``D = 1``.

The curriculum algorithm learns from the same items as `Outcome`s.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from coachgraph.models.training import GroupRollout, SFTExample, StudentTrainer, WeightedCompletion
from coachgraph.tasks.answers import option_letter
from coachgraph.types import Outcome, StepItem, Task, group_advantages

__all__ = ["OBJECTIVES", "Objective", "ObjectiveWeights", "graded_outcome", "reference_solution"]

Objective = Literal["sft", "grpo", "nsr", "w-reinforce", "redi"]


@dataclass(frozen=True, slots=True)
class ObjectiveWeights:
    """The weights the objectives take from the run's settings."""

    positive: float = 0.1
    """lambda of W-REINFORCE: the weight of correct answers against wrong ones' -1."""
    negative: float = 0.8
    """alpha of REDI: the weight of a pair's negative against its positive's 1."""


def reference_solution(task: Task) -> str:
    """The verified worked solution of `task`, ending in the answer line the student must give.

    >>> t = Task(id="t", skill="s", category="s", question="What is 2 + 3?", answer="5",
    ...          steps=["2 + 3 = 5"])
    >>> reference_solution(t)
    '2 + 3 = 5\\n#### 5'
    """
    final = option_letter(task.correct_option) if task.correct_option is not None else task.answer
    return "\n".join([*task.steps, f"#### {final}"])


def _sft(trainer: StudentTrainer, items: Sequence[StepItem], weights: ObjectiveWeights) -> dict[str, Any]:
    """Imitate correct answers, and the reference solution where every sample failed."""
    examples = []
    for item in items:
        right = list(dict.fromkeys(a.text for a in item.attempts if a.correct))
        examples += [SFTExample(item.prompt, text) for text in right or [reference_solution(item.task)]]
    return trainer.sft_step(examples)


def _grpo(trainer: StudentTrainer, items: Sequence[StepItem], weights: ObjectiveWeights) -> dict[str, Any]:
    """Group-normalised policy gradient over the sampled answers."""
    groups = [GroupRollout(item.prompt, [a.token_ids for a in item.attempts], item.rewards) for item in items]
    return trainer.grpo_step(groups)


def _sampled_tokens(items: Sequence[StepItem]) -> int:
    return sum(len(a.token_ids) for item in items for a in item.attempts)


def _signed(trainer: StudentTrainer, items: Sequence[StepItem], positive: float) -> dict[str, Any]:
    """REINFORCE with reward `positive` for correct answers and -1 for wrong ones, token mean over
    every sampled answer of the step."""
    completions = [WeightedCompletion(item.prompt, a.token_ids, positive if a.correct else -1.0)
                   for item in items for a in item.attempts]
    return trainer.policy_step(completions, denominator=max(_sampled_tokens(items), 1))


def _nsr(trainer: StudentTrainer, items: Sequence[StepItem], weights: ObjectiveWeights) -> dict[str, Any]:
    """Negative sample reinforcement: push down the wrong answers only."""
    return _signed(trainer, items, 0.0)


def _w_reinforce(trainer: StudentTrainer, items: Sequence[StepItem], weights: ObjectiveWeights) -> dict[str, Any]:
    """Weighted REINFORCE: wrong answers pushed down, correct ones up with weight lambda."""
    return _signed(trainer, items, weights.positive)


def _redi_pairs(trainer: StudentTrainer, item: StepItem) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(positive, negative) token ids of one problem: each wrong answer with a positive in turn."""
    wrong = [tuple(a.token_ids) for a in item.attempts if not a.correct and a.token_ids]
    right = list(dict.fromkeys(tuple(a.token_ids) for a in item.attempts if a.correct and a.token_ids))
    positives = right or [tuple(trainer.target_ids(reference_solution(item.task)))]
    return list(zip(itertools.cycle(positives), wrong, strict=False)) if wrong else []


def _redi(trainer: StudentTrainer, items: Sequence[StepItem], weights: ObjectiveWeights) -> dict[str, Any]:
    """REDI: length-normalised likelihood of positives up, of negatives down by alpha, per pair."""
    per_item = [(item, _redi_pairs(trainer, item)) for item in items]
    pairs = sum(len(p) for _, p in per_item)
    completions = []
    for item, item_pairs in per_item:
        weight: dict[tuple[int, ...], float] = {}
        for good, bad in item_pairs:
            weight[good] = weight.get(good, 0.0) + 1.0 / (pairs * len(good))
            weight[bad] = weight.get(bad, 0.0) - weights.negative / (pairs * len(bad))
        completions += [WeightedCompletion(item.prompt, ids, w) for ids, w in weight.items()]
    return trainer.policy_step(completions, denominator=1.0)


ObjectiveStep = Callable[[StudentTrainer, Sequence[StepItem], ObjectiveWeights], dict[str, Any]]

OBJECTIVES: dict[str, ObjectiveStep] = {"sft": _sft, "grpo": _grpo, "nsr": _nsr, "w-reinforce": _w_reinforce,
                                        "redi": _redi}
"""Training objectives by name (`AgentConfig.objective`); each takes the trainer, the step's
graded items and the objectives' weights, and returns the step's metrics."""


def graded_outcome(item: StepItem) -> Outcome:
    """What the curriculum algorithm learns from one problem's graded samples: rewards, group
    advantages, and the problem's skill as missing when no sample solved it."""
    missing = [] if any(a.correct for a in item.attempts) else [item.task.skill]
    outcome = Outcome.from_attempts(item.task, item.attempts, missing)
    return outcome.model_copy(update={"advantages": group_advantages(outcome.rewards)})
