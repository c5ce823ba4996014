"""Student training on a local model: SFT on verified solutions and a GRPO-style objective.

The curriculum loop needs control at every step (which problems, how many samples, when to
evaluate, when to checkpoint), so training is a small loop of our own over the `LocalLM`'s
float32 weights rather than a trainer that owns the data loader. After each optimiser step the
generation decoder is marked stale and rebuilt from the new weights on the next call.

GRPO here: G completions per problem, rewards normalised within the group
(``A = (r - mean) / (std + eps)``), loss ``-sum_t A * log pi(y_t)`` over completion tokens,
averaged over all completion tokens of the batch (one on-policy update per batch, so the
importance ratio is 1 and clipping never binds). The mean absolute advantage per group is
returned as well: it is SEC's reward for the problem's category.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coachgraph.errors import InputError
from coachgraph.models.local import LocalLM, Message
from coachgraph.types import group_advantages

__all__ = ["GroupRollout", "SFTExample", "StudentTrainer", "TrainConfig"]

logger = logging.getLogger(__name__)


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
    micro_batch: int = 4
    """Rows per forward/backward pass; gradients of a step's micro-batches are accumulated, so
    activation memory stays bounded whatever the step's batch (the result is the same loss)."""
    seed: int = 0
    """Seeds the initial LoRA adapter weights, so runs repeat exactly."""


@dataclass(frozen=True, slots=True)
class SFTExample:
    """A prompt (chat messages) and the verified assistant answer to imitate."""

    messages: Sequence[Message]
    target: str


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
    def sft_step(self, examples: Sequence[SFTExample]) -> dict[str, float]:
        """One optimiser step of next-token loss on the targets (prompt tokens are masked)."""
        if not examples:
            raise InputError("an SFT step needs at least one example", source="examples")
        rows = [self._encode(e.messages, self._target_ids(e.target)) for e in examples]
        weights = [[1.0] * len(target) for _, target in rows]
        loss, tokens = self._backward(rows, weights)
        self._apply()
        return {"loss": loss, "tokens": float(tokens)}

    def grpo_step(self, groups: Sequence[GroupRollout]) -> dict[str, Any]:
        """One optimiser step of the group-normalised policy gradient."""
        rows, weights, abs_adv = [], [], []
        for group in groups:
            advantages = group_advantages(group.rewards)
            abs_adv.append(float(np.mean(np.abs(advantages))))
            for completion, adv in zip(group.completions, advantages, strict=True):
                if adv != 0.0 and completion:
                    rows.append(self._encode(group.messages, list(completion)))
                    weights.append([adv] * len(completion))
        if not rows:  # every group had equal rewards: nothing to learn from
            return {"loss": 0.0, "tokens": 0.0, "mean_abs_advantage": abs_adv, "updated": False}
        loss, tokens = self._backward(rows, weights)
        self._apply()
        return {"loss": loss, "tokens": float(tokens), "mean_abs_advantage": abs_adv, "updated": True}

    def _target_ids(self, target: str) -> list[int]:
        ids = self.lm.tokenizer(target, add_special_tokens=False)["input_ids"]
        return ids + self.lm.eos_ids[:1]

    def _encode(self, messages: Sequence[Message], completion: list[int]) -> tuple[list[int], list[int]]:
        prompt = self.lm.tokenizer(self.lm.render(list(messages)), add_special_tokens=False)["input_ids"]
        return prompt, completion

    def _backward(self, rows: list[tuple[list[int], list[int]]], weights: list[list[float]]) -> tuple[float, int]:
        """Gradients of the mean weighted NLL over all completion tokens, micro-batch by micro-batch."""
        total = sum(sum(1 for x in ws if x != 0) for ws in weights)
        size = max(self.config.micro_batch, 1)
        self.optimizer.zero_grad(set_to_none=True)
        loss = 0.0
        for start in range(0, len(rows), size):
            nll = self._weighted_nll(rows[start:start + size], weights[start:start + size])
            (nll / max(total, 1)).backward()
            loss += float(nll.detach())
        return loss / max(total, 1), total

    def _weighted_nll(self, rows: list[tuple[list[int], list[int]]], weights: list[list[float]]) -> torch.Tensor:
        """Sum of ``-w_t * log p(y_t)`` over the completion tokens of `rows`."""
        pad = self.lm.tokenizer.pad_token_id
        length = max(len(p) + len(c) for p, c in rows)
        ids = torch.full((len(rows), length), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        w = torch.zeros((len(rows), length))
        for i, ((prompt, completion), ws) in enumerate(zip(rows, weights, strict=True)):
            seq = prompt + completion
            ids[i, :len(seq)] = torch.tensor(seq)  # right padding: positions stay 0..n-1
            mask[i, :len(seq)] = 1
            w[i, len(prompt):len(seq)] = torch.tensor(ws)
        self.lm.model.train()
        # Only completion positions are scored, so the vocabulary projection runs on those alone:
        # full (B, T, V) logits of a 49k vocabulary would dominate both memory and time.
        keep = w[:, 1:] != 0  # (B, T-1): position t predicts token t + 1
        hidden = self._backbone(ids, mask)[:, :-1][keep]  # (N, H)
        logits = self._head(hidden).float()  # (N, V)
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:][keep][:, None])[:, 0]  # (N,)
        return -(w[:, 1:][keep] * logprobs).sum()

    def _backbone(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Last hidden states ``(B, T, H)`` of the causal LM, without its output projection."""
        return self.lm.model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state

    def _head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm.model.get_output_embeddings()(hidden)

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
        torch.save(state, staging)
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
