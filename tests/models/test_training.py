"""Student training on the tiny checkpoint: the loss falls, the policy moves, state restores."""

from __future__ import annotations

import pytest
import torch

from coachgraph.errors import InputError
from coachgraph.models import load_chat_model
from coachgraph.models.sampling import SamplingParams
from coachgraph.models.training import (
    GroupRollout,
    SFTExample,
    StudentTrainer,
    TrainConfig,
)
from coachgraph.types import group_advantages

PROMPT = [{"role": "user", "content": "one two"}]


def _fresh(tiny_checkpoint):
    return load_chat_model(f"hf:{tiny_checkpoint}", precision="fp32", max_tokens=6).lm


def test_group_advantages_by_hand():
    # rewards 1,0,0,0: mean 0.25, std sqrt(0.1875) = 0.4330
    adv = group_advantages([1.0, 0.0, 0.0, 0.0])
    assert adv == pytest.approx([0.75 / 0.4330127, -0.25 / 0.4330127, -0.25 / 0.4330127, -0.25 / 0.4330127], rel=1e-4)
    assert sum(adv) == pytest.approx(0.0, abs=1e-9)


def test_sft_teaches_the_target(tiny_checkpoint):
    lm = _fresh(tiny_checkpoint)
    trainer = StudentTrainer(lm, TrainConfig(lr=3e-3))
    example = SFTExample(PROMPT, "three four five")
    losses = [trainer.sft_step([example])["loss"] for _ in range(30)]
    assert losses[-1] < 0.2 * losses[0]
    answer = lm.generate([PROMPT], SamplingParams(max_new_tokens=8))[0][0].text
    assert answer.strip() == "three four five"
    with pytest.raises(InputError):
        trainer.sft_step([])


def test_grpo_raises_probability_of_rewarded_completion(tiny_checkpoint):
    lm = _fresh(tiny_checkpoint)
    trainer = StudentTrainer(lm, TrainConfig(lr=1e-3))
    good = lm.tokenizer("cat", add_special_tokens=False)["input_ids"]
    bad = lm.tokenizer("mat", add_special_tokens=False)["input_ids"]

    def logprob(ids):
        prompt = lm.tokenizer(lm.render(PROMPT), add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = lm.model(input_ids=torch.tensor([prompt + ids])).logits[0, len(prompt) - 1:-1]
        return float(torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids)[:, None]).sum())

    before = logprob(good) - logprob(bad)
    group = GroupRollout(PROMPT, [good, bad, bad, good], [1.0, 0.0, 0.0, 1.0])
    for _ in range(5):
        stats = trainer.grpo_step([group])
    assert logprob(good) - logprob(bad) > before + 1.0
    assert stats["mean_abs_advantage"] == pytest.approx([1.0], rel=1e-4) and stats["updated"]
    flat = trainer.grpo_step([GroupRollout(PROMPT, [good, bad], [1.0, 1.0])])
    assert not flat["updated"] and flat["mean_abs_advantage"] == [0.0]


def test_save_and_load_continue_identically(tiny_checkpoint, tmp_path):
    example = SFTExample(PROMPT, "three four")
    a = StudentTrainer(_fresh(tiny_checkpoint), TrainConfig(lr=1e-3))
    for _ in range(2):
        a.sft_step([example])
    a.save(tmp_path / "state")
    a_next = a.sft_step([example])["loss"]
    b = StudentTrainer(_fresh(tiny_checkpoint), TrainConfig(lr=1e-3))
    b.load(tmp_path / "state")
    assert b.steps == 2
    assert b.sft_step([example])["loss"] == pytest.approx(a_next, rel=1e-6)


def test_lora_trains_adapters_only_and_generation_sees_them(tiny_checkpoint, tmp_path):
    lm = _fresh(tiny_checkpoint)
    trainer = StudentTrainer(lm, TrainConfig(lr=1e-2, lora_rank=8))
    trainable = [n for n, p in lm.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    for _ in range(80):
        trainer.sft_step([SFTExample(PROMPT, "three four five")])
    adapted = lm.generate([PROMPT], SamplingParams(max_new_tokens=8))[0][0].text
    assert adapted.startswith("three four five")
    exported = trainer.export(tmp_path / "student")
    reloaded = load_chat_model(f"hf:{exported}", precision="fp32", max_tokens=8)
    assert reloaded.invoke("one two").content == adapted  # merged weights generate the same text


def test_micro_batches_give_the_full_batch_gradient(tiny_checkpoint):
    chat = [{"role": "user", "content": "What is 2 + 3?"}]
    targets = ["5", "2 + 3 = 5, so the answer is 5", "five"]
    results = []
    for micro in (1, 8):
        lm = _fresh(tiny_checkpoint)
        trainer = StudentTrainer(lm, TrainConfig(micro_batch=micro))
        rows = [trainer._encode(chat, trainer._target_ids(t)) for t in targets]
        loss, tokens = trainer._backward(rows, [[1.0] * len(c) for _, c in rows])
        grads = {n: p.grad.clone() for n, p in lm.model.named_parameters() if p.grad is not None}
        results.append((loss, tokens, grads))
    (loss_one, tokens_one, g_one), (loss_all, tokens_all, g_all) = results
    assert tokens_one == tokens_all and loss_one == pytest.approx(loss_all, rel=1e-5)
    assert g_one.keys() == g_all.keys() and all(torch.allclose(g_one[k], g_all[k], atol=1e-6) for k in g_one)
