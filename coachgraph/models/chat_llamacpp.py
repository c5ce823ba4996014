"""The `llamacpp` backend: any GGUF file run in process by llama.cpp (llama-cpp-python).

llama.cpp reads 4-bit weights, so at batch 1 on a CPU it generates faster than any float or int8
PyTorch forward: it is the default for roles that only generate (`default_inference_spec`).
It cannot train; a student uses the local backend.

`LlamaCppLM` keeps one llama.cpp context and runs one sequence at a time (the binding's `Llama`
holds one sequence), so an answer never shares a batch with another request. Every prompt is
evaluated afresh: reusing the leading tokens an earlier prompt left in the KV cache, as
llama-cpp-python does, changes how the prompt is split into batches, and where llama.cpp's
kernels round by batch size (a build for the common x86-64 instruction sets does) an answer's
log-probs would then depend on the request before it; the tests check they do not. Tokens
are picked here, not by llama.cpp's sampler chain, so that each one comes with its log-prob and
top alternatives, and sampling is seeded per completion exactly as on the local backend.
"""

from __future__ import annotations

import codecs
import logging
import random
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ConfigDict, Field

from coachgraph.errors import InputError, MissingDependencyError
from coachgraph.models.chat_base import SampledChatModel
from coachgraph.models.local import Completion, Message, cut_at_stop, held_back
from coachgraph.models.sampling import SamplingParams, TokenLogprob

__all__ = ["LlamaCppChatModel", "LlamaCppLM", "pick_token"]

logger = logging.getLogger(__name__)


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingDependencyError(
            "the llamacpp backend needs llama-cpp-python: pip install 'coachgraph[llamacpp]'") from exc
    return llama_cpp


def pick_token(logits: np.ndarray, params: SamplingParams, rng: np.random.Generator) -> TokenLogprob:
    """Choose the next token from one row of logits and record its log-prob (at temperature 1,
    as OpenAI reports them) and the `params.top_logprobs` best alternatives.

    >>> pick_token(np.array([0.0, 2.0, 1.0], dtype=np.float32), SamplingParams(), None).token_id
    1
    """
    peak = float(logits.max())
    log_total = peak + float(np.log(np.exp(logits - peak).sum(dtype=np.float64)))
    if params.temperature <= 0:
        token = int(logits.argmax())
    else:
        token = _sample(logits, peak, params, rng)
    entry = TokenLogprob(token_id=token, logprob=float(logits[token]) - log_total)
    if params.top_logprobs > 0:
        best = np.argpartition(-logits, params.top_logprobs)[:params.top_logprobs]
        best = best[np.argsort(-logits[best], kind="stable")]
        entry.top = [(int(i), float(logits[i]) - log_total) for i in best]
    return entry


def _sample(logits: np.ndarray, peak: float, params: SamplingParams, rng: np.random.Generator) -> int:
    """Draw from the temperature-scaled distribution, cut to its top-`top_p` mass."""
    probs = np.exp((logits.astype(np.float64) - peak) / params.temperature)
    probs /= probs.sum()
    if params.top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        ranked = probs[order]
        probs[order[ranked.cumsum() - ranked >= params.top_p]] = 0.0  # always keeps the top token
        probs /= probs.sum()
    return int(rng.choice(len(probs), p=probs))


class LlamaCppLM:
    """One GGUF model in a llama.cpp context, generating one sequence at a time.

    Args:
        path: the GGUF file.
        context: most tokens of prompt plus completion.
        threads: llama.cpp threads for generation and for prompts (0: llama-cpp-python's
            defaults, half the cores for generation and all of them for prompts).
    """

    def __init__(self, path: str | Path, context: int = 4096, threads: int = 0) -> None:
        llama_cpp = _import_llama_cpp()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"no GGUF file at {self.path}", source="model spec")
        self.llama = llama_cpp.Llama(str(self.path), n_ctx=context, n_threads=threads or None,
                                     n_threads_batch=threads or None, verbose=False)
        # Free the context while the interpreter is whole: the binding's own finalizer fails
        # when it runs during interpreter shutdown.
        weakref.finalize(self, self.llama.close)
        self._logits_of = llama_cpp.llama_get_logits_ith
        self._vocab = llama_cpp.llama_model_get_vocab(self.llama.model)
        self._is_end = llama_cpp.llama_vocab_is_eog
        self.n_vocab = self.llama.n_vocab()
        template = self.llama.metadata.get("tokenizer.chat_template")
        self._formatter = None if template is None else Jinja2ChatFormatter(
            template, eos_token=self._special(self.llama.token_eos()), bos_token=self._special(self.llama.token_bos()))
        self._texts: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def _special(self, token_id: int) -> str:
        return "" if token_id < 0 else self.llama.detokenize([token_id], special=True).decode("utf-8", "replace")

    # ----------------------------------------------------------------- text
    def render(self, conversation: Sequence[Message]) -> str:
        """The prompt text of `conversation` under the GGUF file's chat template."""
        if self._formatter is None:
            return "\n".join(m["content"] for m in conversation) + "\n"
        return self._formatter(messages=list(conversation)).prompt

    def encode(self, conversation: Sequence[Message]) -> list[int]:
        return self.llama.tokenize(self.render(conversation).encode("utf-8"), add_bos=False, special=True)

    def token_bytes(self, token_id: int) -> bytes:
        text = self._texts.get(token_id)
        if text is None:
            text = self._texts[token_id] = self.llama.detokenize([token_id])
        return text

    def token_text(self, token_id: int) -> str:
        return self.token_bytes(token_id).decode("utf-8", "replace")

    # ----------------------------------------------------------- generation
    def generate(self, conversation: Sequence[Message], params: SamplingParams, n: int = 1,
                 seed: int | None = None) -> list[Completion]:
        """`n` completions of one conversation; sample ``j`` is seeded with ``seed + j``."""
        prompt = self.encode(conversation)
        base = seed if seed is not None else random.randrange(2**31)
        return [self._complete(prompt, params, base + j) for j in range(n)]

    def stream(self, conversation: Sequence[Message], params: SamplingParams,
               seed: int | None = None) -> Iterator[str]:
        """Yield the text of one completion piece by piece as tokens are generated."""
        prompt = self.encode(conversation)
        seed = seed if seed is not None else random.randrange(2**31)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        text = emitted = ""
        with self._lock:
            for token in self._tokens(prompt, params, seed, []):
                text += decoder.decode(self.token_bytes(token.token_id))
                ready = cut_at_stop(text, params.stop)
                ready = ready[:len(ready) - held_back(ready, params.stop)]
                if len(ready) > len(emitted):
                    yield ready[len(emitted):]
                    emitted = ready
        rest = cut_at_stop(text + decoder.decode(b"", final=True), params.stop)
        if len(rest) > len(emitted):
            yield rest[len(emitted):]

    def _complete(self, prompt: list[int], params: SamplingParams, seed: int) -> Completion:
        with self._lock:
            finish: list[str] = []
            tokens = list(self._tokens(prompt, params, seed, finish))
        text = b"".join(self.token_bytes(t.token_id) for t in tokens).decode("utf-8", "replace")
        return Completion(text=cut_at_stop(text, params.stop), tokens=tokens,
                          finish_reason=finish[0] if finish else "length", prompt_tokens=len(prompt))

    def _tokens(self, prompt: list[int], params: SamplingParams, seed: int, finish: list[str]) -> Iterator[TokenLogprob]:
        """Generate from `prompt` (call with the lock held); appends why it stopped to `finish`."""
        if len(prompt) + params.max_new_tokens > self.llama.n_ctx():
            raise InputError(f"a prompt of {len(prompt)} tokens plus {params.max_new_tokens} new tokens exceeds "
                             f"the context of {self.llama.n_ctx()} tokens", source="messages")
        self._evaluate(prompt)
        rng = np.random.default_rng(seed)
        text = b""
        for step in range(params.max_new_tokens):
            token = pick_token(self._last_logits(), params, rng)
            if not params.ignore_eos and self._is_end(self._vocab, token.token_id):
                finish.append("stop")
                yield token
                return
            yield token
            if params.stop:
                text += self.token_bytes(token.token_id)
                if any(s in text.decode("utf-8", "replace") for s in params.stop):
                    finish.append("stop")
                    return
            if step + 1 < params.max_new_tokens:
                self._evaluate([token.token_id], extend=True)

    def _last_logits(self) -> np.ndarray:
        """The logits after the last token fed, read in place; llama.cpp gives a null pointer where
        it has none, which numpy would read as memory at address zero."""
        pointer = self._logits_of(self.llama.ctx, -1)
        if not pointer:
            raise RuntimeError(f"llama.cpp holds no logits after the last token fed to {self.path}")
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))

    def _evaluate(self, tokens: list[int], extend: bool = False) -> None:
        """Feed `tokens`: after the cache when `extend`, else as a new prompt from an empty cache."""
        if not extend:
            self.llama.n_tokens = 0
        self.llama.eval(tokens)


class LlamaCppChatModel(SampledChatModel):
    """Chat model backed by llama.cpp on CPU; `batch()` runs its prompts one after another."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: LlamaCppLM = Field(exclude=True)
    """The loaded GGUF model; share one between chat models to share weights."""
    model_name: str = "llamacpp"

    @property
    def _llm_type(self) -> str:
        return "coachgraph-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "path": str(self.engine.path)}

    def _complete(self, conversation: list[Message], params: SamplingParams, n: int,
                  seed: int | None) -> list[Completion]:
        return self.engine.generate(conversation, params, n=n, seed=seed)

    def _pieces(self, conversation: list[Message], params: SamplingParams, seed: int | None) -> Iterator[str]:
        return self.engine.stream(conversation, params, seed=seed)

    def _token_text(self, token_id: int) -> str:
        return self.engine.token_text(token_id)
