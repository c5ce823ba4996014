"""After a training step the float32 and bfloat16 decoders take the new weights in place, and
generate exactly what a decoder built afresh from them generates; int8 is rebuilt."""

from __future__ import annotations

import pytest
import torch

from coachgraph.models import load_chat_model
from coachgraph.models.llama_decoder import LlamaDecoder
from coachgraph.models.training import SFTExample, StudentTrainer, TrainConfig

CHAT = [{"role": "user", "content": "one two"}]


def _logits(decoder, lm) -> torch.Tensor:
    ids, mask = lm.encode([lm.render(CHAT), lm.render([{"role": "user", "content": "cat"}])])
    with torch.inference_mode():
        first = decoder.prefill(ids, mask, 3)
        return torch.cat([first, decoder.step(first.argmax(-1))])


@pytest.mark.parametrize(("precision", "lora_rank"), [("fp32", 0), ("fp32", 4), ("bf16", 0), ("bf16", 4)])
def test_float_decoder_takes_trained_weights_in_place(tiny_checkpoint, precision, lora_rank):
    lm = load_chat_model(f"hf:{tiny_checkpoint}", precision=precision).lm
    trainer = StudentTrainer(lm, TrainConfig(lr=1e-2, lora_rank=lora_rank))
    decoder = lm.decoder
    before = _logits(decoder, lm)
    for _ in range(2):
        trainer.sft_step([SFTExample(CHAT, "three four five")])
    assert lm.decoder is decoder  # refreshed, not rebuilt
    refreshed = _logits(lm.decoder, lm)
    model = lm.model.merge_and_unload() if lora_rank else lm.model
    assert torch.equal(refreshed, _logits(LlamaDecoder(model, precision=precision), lm))
    assert not torch.equal(refreshed, before)


def test_int8_decoder_is_rebuilt_after_training(tiny_checkpoint):
    lm = load_chat_model(f"hf:{tiny_checkpoint}", precision="int8").lm
    trainer = StudentTrainer(lm, TrainConfig(lr=1e-2))
    decoder = lm.decoder
    trainer.sft_step([SFTExample(CHAT, "three four five")])
    assert lm.decoder is not decoder and not decoder.load_weights(lm.model)
