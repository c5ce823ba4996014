"""A local transformers causal LM: chat templates, batched generation and streaming.

`LocalLM` owns one model and its tokenizer. The float32 transformers model is the source of
truth (it is what training updates and what exact scoring reads); generation runs on a lean
`Decoder` built from it, rebuilt lazily after `weights_changed()`. Requests that arrive at
the same time from several threads are coalesced into one batch by `submit`, which is how a
chat model's `batch()` and parallel graph nodes really share forward passes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import torch

from coachgraph.errors import InputError
from coachgraph.models.decoders import Decoder, HFDecoder, make_decoder
from coachgraph.models.linears import PRECISIONS
from coachgraph.models.sampling import (
    DecodeResult,
    SamplingParams,
    TokenLogprob,
    decode,
    iter_decode,
)

__all__ = ["Completion", "LocalLM", "Message", "cut_at_stop", "held_back"]

logger = logging.getLogger(__name__)

Message = dict[str, str]
"""A chat message as the tokenizer's chat template expects it: ``{"role", "content"}``."""


CALIBRATION_CHATS: tuple[tuple[str, str], ...] = (
    ("What is 47 + 38?", "To add 47 and 38, add the ones: 7 + 8 = 15, write 5 carry 1. Then 4 + 3 + 1 = 8. The answer is 85."),
    ("Write a short story about a cat.", "Once upon a time, a curious cat named Milo lived near the river."),
    ("Explain why the sky is blue.", "Sunlight scatters off air molecules, and blue light scatters the most."),
    ("Tom has 12 apples and gives 5 away. How many are left?", "12 - 5 = 7. Tom has 7 apples left."),
    ("List three uses of a paperclip.", "1. Holding papers together. 2. Resetting devices. 3. A bookmark."),
    ("Translate 'good morning' into French.", "Bonjour!"),
)
"""Representative chats whose activations calibrate the int8 decoder."""


@dataclass(slots=True)
class Completion:
    """One generated answer with its tokens' log-probs."""

    text: str
    tokens: list[TokenLogprob]
    finish_reason: str
    prompt_tokens: int


@dataclass(slots=True)
class _Request:
    conversations: list[list[Message]]
    params: SamplingParams
    seeds: list[int]
    future: Future[list[Completion]] = field(default_factory=Future)


class LocalLM:
    """A transformers causal LM with fast batched generation on CPU.

    Args:
        path: checkpoint folder readable by `AutoModelForCausalLM.from_pretrained`.
        precision: storage of the decoder's linear layers: ``"int8"`` (default; int8 weights
            and per-row int8 activations after activation smoothing, the fastest on CPU),
            ``"fp32"`` (transformers' arithmetic) or ``"bf16"`` (for CPUs with fast bf16 units).
            In every precision a row's tokens do not depend on what else shares its batch.
        max_batch: most rows run in one forward pass; larger requests are split.

    It uses torch's intra-op threads as the program set them (`torch.set_num_threads`, or the
    command line's ``COACHGRAPH_THREADS``): a thread count is process-wide, so a model never
    changes it.
    """

    def __init__(self, path: str | Path, precision: str = "int8", max_batch: int = 64) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if precision not in PRECISIONS:
            raise InputError(f"unknown precision {precision!r}; known: {sorted(PRECISIONS)}", source="precision")
        self.path = Path(path)
        self.precision = precision
        self.max_batch = max_batch
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(self.path, dtype=torch.float32).eval()
        self.eos_ids = _eos_ids(self.model, self.tokenizer)
        self._decoder: Decoder | None = None
        self._stale = False
        self._token_texts: dict[int, str] = {}
        self._lock = threading.RLock()
        self._queue: list[_Request] = []
        self._queue_cv = threading.Condition()
        self._worker: threading.Thread | None = None

    # ----------------------------------------------------------------- prompts
    def render(self, conversation: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """The prompt text of `conversation` under the model's chat template."""
        if not conversation:
            raise InputError("empty conversation: give at least one message", source="messages")
        if self.tokenizer.chat_template is None:
            return "\n".join(m["content"] for m in conversation) + "\n"
        return self.tokenizer.apply_chat_template(
            list(conversation), add_generation_prompt=add_generation_prompt, tokenize=False
        )

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded ``(input_ids, attention_mask)`` for already rendered prompts."""
        batch = self.tokenizer(list(texts), return_tensors="pt", padding=True, add_special_tokens=False)
        return batch["input_ids"], batch["attention_mask"]

    def detokenize(self, token_ids: list[int]) -> str:
        return self.tokenizer.decode(token_ids, skip_special_tokens=True)

    def token_text(self, token_id: int) -> str:
        """The text of one token, special tokens included (cached: log-prob metadata asks for
        the same few thousand ids again and again)."""
        text = self._token_texts.get(token_id)
        if text is None:
            text = self._token_texts[token_id] = self.tokenizer.decode([token_id])
        return text

    # -------------------------------------------------------------- generation
    @property
    def decoder(self) -> Decoder:
        """The generation decoder; after `weights_changed()` it takes the new weights in place
        where it can, else it is rebuilt."""
        if self._decoder is not None and self._stale and not self._load_weights(self._decoder):
            self._decoder = None
        self._stale = False
        if self._decoder is None:
            self._decoder = self._build_decoder()
        return self._decoder

    def _load_weights(self, decoder: Decoder) -> bool:
        """Refresh `decoder` from the current weights, LoRA adapters folded in."""
        if not hasattr(self.model, "merge_adapter"):
            return decoder.load_weights(self.model)
        self.model.merge_adapter()
        try:
            return decoder.load_weights(self.model.get_base_model())
        finally:
            self.model.unmerge_adapter()

    def _build_decoder(self) -> Decoder:
        """A decoder over the current weights; LoRA adapters are folded in for the lean path."""
        calibration = self._calibration() if self.precision == "int8" else None
        if not hasattr(self.model, "merge_adapter"):
            return make_decoder(self.model, precision=self.precision, calibration=calibration)
        self.model.merge_adapter()
        try:
            decoder = make_decoder(self.model.get_base_model(), precision=self.precision, calibration=calibration)
        finally:
            self.model.unmerge_adapter()
        # The generic decoder keeps a reference to the (now unmerged) base model: use the
        # adapter-wrapped model's own forward instead.
        return decoder if not isinstance(decoder, HFDecoder) else HFDecoder(self.model)

    def _calibration(self) -> tuple[torch.Tensor, torch.Tensor]:
        texts = [self.render([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                             add_generation_prompt=False) for q, a in CALIBRATION_CHATS]
        return self.encode(texts)

    def weights_changed(self) -> None:
        """Call after updating `model`'s weights (training) so generation uses the new ones."""
        with self._lock:
            self._stale = True

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        params: SamplingParams,
        n: int = 1,
        seed: int | None = None,
    ) -> list[list[Completion]]:
        """`n` completions for each conversation, all rows batched together.

        Sample ``j`` of conversation ``i`` uses seed ``seed + i * n + j`` (a random base when
        `seed` is None), so results do not depend on batch composition.
        """
        rows = [list(c) for c in conversations for _ in range(n)]
        base = seed if seed is not None else random.randrange(2**31)
        flat = self._run(rows, params, [base + k for k in range(len(rows))])
        return [flat[i * n:(i + 1) * n] for i in range(len(conversations))]

    def submit(
        self, conversations: Sequence[Sequence[Message]], params: SamplingParams, n: int = 1, seed: int | None = None
    ) -> list[list[Completion]]:
        """Like `generate`, but waits briefly to share a batch with concurrent callers."""
        rows = [list(c) for c in conversations for _ in range(n)]
        base = seed if seed is not None else random.randrange(2**31)
        request = _Request(rows, params, [base + k for k in range(len(rows))])
        with self._queue_cv:
            self._queue.append(request)
            self._queue_cv.notify()
            self._ensure_worker()
        flat = request.future.result()
        return [flat[i * n:(i + 1) * n] for i in range(len(conversations))]

    def stream(self, conversation: Sequence[Message], params: SamplingParams, seed: int | None = None) -> Iterator[str]:
        """Yield the text of one completion piece by piece as tokens are generated."""
        ids, mask = self.encode([self.render(conversation)])
        results = [DecodeResult()]
        emitted = ""
        seed = seed if seed is not None else random.randrange(2**31)
        with self._lock:
            events = iter_decode(self.decoder, ids, mask, params, [seed], self.eos_ids, self.detokenize, results)
            for _ in events:
                text = cut_at_stop(self.detokenize([t.token_id for t in results[0].tokens]), params.stop)
                ready = text[:len(text) - held_back(text, params.stop)]
                if len(ready) > len(emitted) and not ready.endswith("\ufffd"):
                    yield ready[len(emitted):]
                    emitted = ready
        text = cut_at_stop(self.detokenize([t.token_id for t in results[0].tokens]), params.stop)
        if len(text) > len(emitted):
            yield text[len(emitted):]

    def _run(self, rows: list[list[Message]], params: SamplingParams, seeds: list[int]) -> list[Completion]:
        texts = [self.render(c) for c in rows]
        out: list[Completion] = []
        for start in range(0, len(texts), self.max_batch):
            chunk = texts[start:start + self.max_batch]
            distinct = {text: k for k, text in enumerate(dict.fromkeys(chunk))}  # each prompt prefilled once
            sources = [distinct[text] for text in chunk]
            ids, mask = self.encode(list(distinct))
            with self._lock:
                results = decode(self.decoder, ids, mask, params, seeds[start:start + len(chunk)],
                                 self.eos_ids, self.detokenize, sources=sources)
            prompt_lens = mask.sum(-1).tolist()
            out.extend(self._completion(r, params, int(prompt_lens[k])) for r, k in zip(results, sources, strict=True))
        return out

    def _completion(self, result: DecodeResult, params: SamplingParams, prompt_tokens: int) -> Completion:
        text = cut_at_stop(self.detokenize([t.token_id for t in result.tokens]), params.stop)
        return Completion(text=text, tokens=result.tokens, finish_reason=result.finish_reason,
                          prompt_tokens=prompt_tokens)

    # ------------------------------------------------------------ coalescing
    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._serve, name="coachgraph-batcher", daemon=True)
            self._worker.start()

    def _serve(self) -> None:
        while True:
            with self._queue_cv:
                if not self._queue and not self._queue_cv.wait(timeout=30.0):
                    self._worker = None
                    return
            self._gather()
            with self._queue_cv:
                pending, self._queue = self._queue, []
            for group in _group_by_params(pending):
                self._serve_group(group)

    def _gather(self, window_s: float = 0.004, limit_s: float = 0.05) -> None:
        """Wait while new requests keep arriving, up to `limit_s`, to fill the batch."""
        deadline = time.monotonic() + limit_s
        seen = -1
        while time.monotonic() < deadline:
            with self._queue_cv:
                size = sum(len(r.conversations) for r in self._queue)
            if size == seen or size >= self.max_batch:
                return
            seen = size
            time.sleep(window_s)

    def _serve_group(self, group: list[_Request]) -> None:
        rows = [c for r in group for c in r.conversations]
        seeds = [s for r in group for s in r.seeds]
        try:
            flat = self._run(rows, group[0].params, seeds)
        except BaseException as exc:  # the callers re-raise it in their own threads
            for r in group:
                r.future.set_exception(exc)
            return
        offset = 0
        for r in group:
            r.future.set_result(flat[offset:offset + len(r.conversations)])
            offset += len(r.conversations)


def _group_by_params(requests: list[_Request]) -> list[list[_Request]]:
    groups: dict[SamplingParams, list[_Request]] = {}
    for r in requests:
        groups.setdefault(r.params, []).append(r)
    return list(groups.values())


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first stop string in it.

    >>> cut_at_stop("2 + 3 = 5. Next", ["."])
    '2 + 3 = 5'
    """
    cut = min((text.find(s) for s in stop if s in text), default=-1)
    return text if cut < 0 else text[:cut]


def held_back(text: str, stop: Sequence[str]) -> int:
    """How many trailing characters of `text` could be the start of a stop string (a stream
    waits for the next token before showing them).

    >>> held_back("The end", ["ending"]), held_back("The end", ["."])
    (3, 0)
    """
    return max((k for s in stop for k in range(min(len(s) - 1, len(text)), 0, -1) if text.endswith(s[:k])),
               default=0)


def _eos_ids(model: torch.nn.Module, tokenizer: object) -> list[int]:
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)
