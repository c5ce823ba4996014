"""Student training on the tiny checkpoint: the loss falls, the policy moves, state restores."""

from __future__ import annotations

import pytest
import torch

from coachgraph.errors import InputError, SaveError
from coachgraph.models import load_chat_model
from coachgraph.models.sampling import SamplingParams
from coachgraph.models.training import (
    GroupRollout,
    SFTExample,
    StudentTrainer,
    TrainConfig,
    WeightedCompletion,
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


def test_a_state_that_cannot_be_written_is_named_and_the_saved_one_stays(tiny_checkpoint, tmp_path):
    trainer = StudentTrainer(_fresh(tiny_checkpoint), TrainConfig(lr=1e-3))
    trainer.sft_step([SFTExample(PROMPT, "three four")])
    trainer.save(tmp_path / "state")
    saved = (tmp_path / "state" / "trainer.pt").read_bytes()
    trainer.sft_step([SFTExample(PROMPT, "three four")])
    (tmp_path / "state" / "trainer.pt.tmp").mkdir()  # where the new state would be written
    with pytest.raises(SaveError, match=r"could not save the student's state to .*state .*GiB free"):
        trainer.save(tmp_path / "state")
    assert (tmp_path / "state" / "trainer.pt").read_bytes() == saved


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


def test_packed_rows_give_each_sequence_its_own_loss_and_gradient(tiny_checkpoint):
    chats = [[{"role": "user", "content": "What is 2 + 3?"}], [{"role": "user", "content": "one two"}]]
    answers = [(0, "5", 1.0), (0, "2 + 3 = 5, so the answer is 5", -0.5), (1, "three four", 2.0), (0, "five", 1.0)]
    lm = _fresh(tiny_checkpoint)
    trainer = StudentTrainer(lm, TrainConfig())
    completions = [WeightedCompletion(chats[c], trainer.target_ids(text), w) for c, text, w in answers]
    lm.model.zero_grad()
    reference = 0.0
    for c in completions:  # each sequence alone, in an ordinary forward pass
        prompt = lm.tokenizer(lm.render(c.messages), add_special_tokens=False)["input_ids"]
        logits = lm.model(input_ids=torch.tensor([prompt + list(c.completion)])).logits[0, len(prompt) - 1:-1]
        logp = torch.log_softmax(logits, -1).gather(-1, torch.tensor(c.completion)[:, None]).sum()
        term = -c.weight * logp / 7.0
        term.backward()
        reference += float(term)
    expected = {n: p.grad.clone() for n, p in lm.model.named_parameters()}
    for budget in (1, 4096):  # every tree in a row of its own, then all in one row
        trainer = StudentTrainer(lm, TrainConfig(pack_tokens=budget))
        loss = trainer._backward(completions, denominator=7.0)
        assert loss == pytest.approx(reference, rel=1e-5)
        assert all(torch.allclose(p.grad, expected[n], atol=1e-5) for n, p in lm.model.named_parameters())


def test_bf16_training_follows_float32(tiny_checkpoint):
    """Mixed precision moves the float32 weights as float32 arithmetic does: same loss to bf16's
    rounding, gradients pointing the same way, and the target learned as fast."""
    example = SFTExample(PROMPT, "three four five")
    runs = {}
    for precision in ("fp32", "bf16"):
        lm = _fresh(tiny_checkpoint)
        trainer = StudentTrainer(lm, TrainConfig(lr=3e-3, precision=precision))
        completion = WeightedCompletion(PROMPT, trainer.target_ids(example.target), 1.0)
        first = trainer._backward([completion], denominator=float(len(completion.completion)))
        grad = torch.cat([p.grad.flatten() for p in lm.model.parameters()])
        assert all(p.grad.dtype == torch.float32 and p.dtype == torch.float32 for p in lm.model.parameters())
        losses = [trainer.sft_step([example])["loss"] for _ in range(30)]
        runs[precision] = (first, grad, losses)
    (loss32, grad32, curve32), (loss16, grad16, curve16) = runs["fp32"], runs["bf16"]
    assert loss16 == pytest.approx(loss32, rel=2e-2)
    assert float(torch.nn.functional.cosine_similarity(grad16, grad32, dim=0)) > 0.99
    assert curve16[-1] < 0.2 * curve16[0] and curve16[-1] < 2 * curve32[-1] + 0.05
    with pytest.raises(InputError, match="fp16"):
        StudentTrainer(_fresh(tiny_checkpoint), TrainConfig(precision="fp16"))
