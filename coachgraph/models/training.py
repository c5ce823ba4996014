"""Student training on a local model: one weighted log-likelihood step that every objective uses.

The curriculum loop needs control at every step (which problems, how many samples, when to
evaluate, when to checkpoint), so training is a small loop of our own over the `LocalLM`'s
float32 weights rather than a trainer that owns the data loader. After each optimiser step the
generation decoder is marked stale and rebuilt from the new weights on the next call.

Every objective is a `policy_step`: ``-(1/D) * sum_i w_i * sum_t log pi(y_it)`` over weighted
completions, on packed rows (`coachgraph.models.packing`). SFT gives each target weight 1 and
averages over target tokens. GRPO here: G completions per problem, rewards normalised within the
group (``A = (r - mean) / std``), weight A, averaged over the tokens of completions with a
non-zero advantage (one on-policy update per batch, so the importance ratio is 1 and clipping
never binds); the mean absolute advantage per group is returned as well: it is SEC's reward for
the problem's category. The objectives of the curriculum graph (`coachgraph.agents.learn`) add
NSR, W-REINFORCE and REDI on the same step.
"""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coachgraph.errors import InputError, SaveError
from coachgraph.models.local import LocalLM, Message
from coachgraph.models.packing import PackedRow, pack_trees, prompt_trees
from coachgraph.types import group_advantages

__all__ = ["TRAIN_PRECISIONS", "GroupRollout", "SFTExample", "StudentTrainer", "TrainConfig", "WeightedCompletion"]

logger = logging.getLogger(__name__)

TRAIN_PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16}
"""Training arithmetic by name: the dtype `torch.autocast` runs the matrix products in (None: float32)."""


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Optimiser settings of the student."""

    lr: float = 5e-5
    """AdamW learning rate (full fine-tuning of a 135M model)."""
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    """Global gradient-norm clip."""
    lora_rank: int = 0
    """0 trains every weight; > 0 trains LoRA adapters of this rank on the attention and MLP projections."""
    lora_alpha: int = 16
    pack_tokens: int = 256
    """Most positions per forward/backward pass: prompts with their completions are packed into
    rows of this many tokens (`coachgraph.models.packing`) and the rows' gradients accumulated,
    so activation memory stays bounded whatever the step's batch (the loss is the same). Short
    rows are also faster: attention over a packed row costs its length squared whatever the
    mask lets through, so a curriculum prompt with its G answers (about 250 tokens) goes in a
    row of its own."""
    seed: int = 0
    """Seeds the initial LoRA adapter weights, so runs repeat exactly."""
    precision: str = "fp32"
    """Arithmetic of the forward and backward passes (a key of `TRAIN_PRECISIONS`): ``fp32``, or
    ``bf16`` mixed precision (matrix products in bfloat16 under `torch.autocast`, weights,
    gradients, optimiser state and the loss's softmax in float32; about twice as fast on CPUs
    with bf16 units)."""


@dataclass(frozen=True, slots=True)
class SFTExample:
    """A prompt (chat messages) and the verified assistant answer to imitate."""

    messages: Sequence[Message]
    target: str


@dataclass(frozen=True, slots=True)
class WeightedCompletion:
    """A completion (token ids) of a prompt whose log-likelihood enters the loss with one weight."""

    messages: Sequence[Message]
    completion: Sequence[int]
    weight: float


@dataclass(frozen=True, slots=True)
class GroupRollout:
    """G sampled completions of one prompt with their rewards."""

    messages: Sequence[Message]
    completions: Sequence[Sequence[int]]
    """Token ids of each completion, as generated."""
    rewards: Sequence[float]


class StudentTrainer:
    """Updates a `LocalLM`'s weights by SFT or GRPO steps and saves or restores its state."""

    def __init__(self, lm: LocalLM, config: TrainConfig | None = None) -> None:
        self.lm = lm
        self.config = config or TrainConfig()
        self.steps = 0
        if self.config.precision not in TRAIN_PRECISIONS:
            raise InputError(f"unknown training precision {self.config.precision!r}; known: "
                             f"{sorted(TRAIN_PRECISIONS)}", source="precision")
        if self.config.lora_rank > 0:
            with torch.random.fork_rng(devices=[]):  # adapter init draws from torch's global RNG
                torch.manual_seed(self.config.seed)
                self._add_lora()
        params = [p for p in self.lm.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=self.config.lr, weight_decay=self.config.weight_decay)

    def _add_lora(self) -> None:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=self.config.lora_rank, lora_alpha=self.config.lora_alpha, lora_dropout=0.0,
                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                          "down_proj"])
        self.lm.model = get_peft_model(self.lm.model, lora)
        self.lm.weights_changed()

    # ------------------------------------------------------------------ steps
    def sft_step(self, examples: Sequence[SFTExample]) -> dict[str, Any]:
        """One optimiser step of next-token loss on the targets (prompt tokens are not scored),
        averaged over all target tokens."""
        if not examples:
            raise InputError("an SFT step needs at least one example", source="examples")
        return self.policy_step([WeightedCompletion(e.messages, self.target_ids(e.target), 1.0) for e in examples])

    def grpo_step(self, groups: Sequence[GroupRollout]) -> dict[str, Any]:
        """One optimiser step of the group-normalised policy gradient, averaged over the tokens of
        the completions whose advantage is not zero."""
        completions, abs_adv = [], []
        for group in groups:
            advantages = group_advantages(group.rewards)
            abs_adv.append(float(np.mean(np.abs(advantages))))
            completions += [WeightedCompletion(group.messages, c, a)
                            for c, a in zip(group.completions, advantages, strict=True)]
        return {**self.policy_step(completions), "mean_abs_advantage": abs_adv}

    def policy_step(self, completions: Sequence[WeightedCompletion], denominator: float | None = None
                    ) -> dict[str, Any]:
        """One optimiser step of ``-(1/D) * sum_i w_i * sum_t log pi(y_it | x_i, y_i<t)``.

        `D` is `denominator`, or by default the number of tokens of the completions whose weight
        is not zero. Completions of weight zero cost nothing; when none is left, no step is taken
        (``updated`` is False). The returned loss is the value before the step.
        """
        live = [c for c in completions if c.weight != 0.0 and c.completion]
        if not live:
            return {"loss": 0.0, "tokens": 0.0, "updated": False}
        tokens = sum(len(c.completion) for c in live)
        loss = self._backward(live, float(denominator if denominator is not None else tokens))
        self._apply()
        return {"loss": loss, "tokens": float(tokens), "updated": True}

    def target_ids(self, target: str) -> list[int]:
        """Token ids of an answer text to imitate, ending with the end-of-turn token."""
        ids = self.lm.tokenizer(target, add_special_tokens=False)["input_ids"]
        return ids + self.lm.eos_ids[:1]

    def _backward(self, completions: Sequence[WeightedCompletion], denominator: float) -> float:
        """Gradients of the weighted NLL over `denominator`, one packed row at a time; returns the loss."""
        texts = [self.lm.render(list(c.messages)) for c in completions]
        ids = {t: self.lm.tokenizer(t, add_special_tokens=False)["input_ids"] for t in dict.fromkeys(texts)}
        trees = prompt_trees([ids[t] for t in texts], [list(c.completion) for c in completions],
                             [c.weight for c in completions])
        self.optimizer.zero_grad(set_to_none=True)
        self.lm.model.train()
        loss = 0.0
        for row in pack_trees(trees, max(self.config.pack_tokens, 1)):
            nll = self._weighted_nll(row)
            (nll / denominator).backward()
            loss += float(nll.detach())
        return loss / denominator

    def _weighted_nll(self, row: PackedRow) -> torch.Tensor:
        """Sum of ``-w * log p(y)`` over the scored tokens of one packed row."""
        dtype = TRAIN_PRECISIONS[self.config.precision]
        with torch.autocast(self.lm.model.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            hidden = self.lm.model.get_decoder()(input_ids=row.ids[None], attention_mask=row.mask,
                                                 position_ids=row.positions[None]).last_hidden_state[0]  # (L, H)
            # Only scored positions go through the vocabulary projection: full (L, V) logits of a
            # 49k vocabulary would dominate both memory and time.
            logits = self.lm.model.get_output_embeddings()(hidden[row.predictors]).float()  # (N, V)
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, row.targets[:, None])[:, 0]
        return -(row.weights * logprobs).sum()

    def _apply(self) -> None:
        params = [p for p in self.lm.model.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        self.optimizer.step()
        self.lm.model.eval()
        self.steps += 1
        self.lm.weights_changed()

    # ------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> None:
        """Write trainable weights, optimiser state and step count to `folder`.

        Training draws nothing at random (sampling is seeded per call), so no RNG state is kept.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        trainable = {k: v for k, v in self.lm.model.state_dict().items()
                     if k in {n for n, p in self.lm.model.named_parameters() if p.requires_grad}}
        state = {"weights": trainable, "optimizer": self.optimizer.state_dict(), "steps": self.steps}
        staging = folder / "trainer.pt.tmp"
        try:
            torch.save(state, staging)
        except (OSError, RuntimeError) as exc:  # torch reports a short write as a RuntimeError
            if staging.is_file():
                staging.unlink()
            raise SaveError(f"could not save the student's state to {folder} (is the disk full? "
                            f"{shutil.disk_usage(folder).free / 2**30:.1f} GiB free): {exc}") from exc
        staging.replace(folder / "trainer.pt")

    def load(self, folder: str | Path) -> None:
        """Restore what `save` wrote, so training continues exactly where it stopped."""
        state = torch.load(Path(folder) / "trainer.pt", weights_only=True)
        self.lm.model.load_state_dict(state["weights"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        self.lm.weights_changed()

    def export(self, folder: str | Path) -> Path:
        """Save the student as a standalone transformers checkpoint (LoRA adapters merged)."""
        folder = Path(folder)
        model = self.lm.model
        if hasattr(model, "merge_and_unload"):
            model = copy.deepcopy(model).merge_and_unload()
        model.save_pretrained(folder)
        self.lm.tokenizer.save_pretrained(folder)
        return folder
