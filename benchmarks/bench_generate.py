"""Generation speed of the embedded SmolLM2, every engine through its public interface, in one run.

Four columns, greedy, a fixed number of new tokens (end tokens ignored), the same prompts:

- ``default``: coachgraph's default inference spec (`Settings.from_env().inference_model`,
  ``llamacpp`` where llama-cpp-python is installed): `invoke()` at batch 1, `batch()` above;
- ``local``: coachgraph's ``smollm2`` spec (int8 lean decoder): `invoke()` at batch 1, `batch()`
  above (concurrent calls coalesced into shared forward passes);
- ``llama.cpp``: llama-cpp-python's `Llama.generate` on the chat-template prompt of the same GGUF
  file; at batch 8 and 32 the prompts run one after another, since the binding's `Llama`
  generates one sequence at a time (it batches only embeddings);
- ``transformers``: `model.generate` on the float32 weights, the batch left-padded.

Goals, checked in the same run: the default spec's `invoke()` at batch 1 at least llama.cpp's
tokens/s, and the local `batch()` at batch 32 at least twice llama.cpp's aggregate tokens/s.

Prints a table and, with ``--json PATH``, writes the figures, the goals, load times, peak RSS,
how many local greedy outputs equal plain float32 generation, and how many of the local
`batch()` outputs equal the same prompt's `invoke()` alone.

Run: ``python benchmarks/bench_generate.py --json bench-out/generate.json``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

PROMPTS = [
    "Write a short story about a cat.", "Explain how rain forms.", "What is 17 + 25?",
    "List three uses of a paperclip.", "Describe the color blue to a child.", "Why is the sky blue?",
    "Give me a tip for learning math.", "What is the capital of France?", "Write a haiku about rivers.",
    "How do plants grow?", "Explain addition with carrying.", "Tell me a fun fact about owls.",
    "What is 9 times 7?", "Suggest a name for a robot.", "How does a bicycle work?",
    "Write a sentence about the moon.", "What makes a good friend?", "Explain what a computer is.",
    "Describe a busy city street.", "What is 100 minus 37?", "How do fish breathe?",
    "Give advice for a first day at school.", "What is a verb?", "Describe the taste of an apple.",
    "Why do we sleep?", "What is 12 divided by 4?", "Write a riddle about time.",
    "How are clouds made?", "Name three planets.", "Explain subtraction with borrowing.",
    "Describe a mountain at sunrise.", "What is the largest ocean?",
]

ENGINES = ("default", "local", "llama.cpp", "transformers")

_LOAD_SNIPPET = (
    "import time, sys; t = time.perf_counter(); "
    "from coachgraph.models import load_chat_model; m = load_chat_model('smollm2'); "
    "print(time.perf_counter() - t)"
)

Runner = Callable[[list[str]], list[list[int]]]
"""Generates for a list of prompts; returns each prompt's new token ids."""


def measure_load(cache: Path) -> float:
    """Seconds `load_chat_model('smollm2')` takes in a fresh process with this cache folder."""
    env = {**os.environ, "COACHGRAPH_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def chat_runner(chat, new_tokens: int) -> Runner:
    """A coachgraph chat model: `invoke()` for one prompt, `batch()` for several."""

    def run(prompts: list[str]) -> list[list[int]]:
        options = {"max_tokens": new_tokens, "ignore_eos": True}
        messages = [chat.invoke(prompts[0], **options)] if len(prompts) == 1 else chat.batch(prompts, **options)
        return [[e["token_id"] for e in m.response_metadata["logprobs"]["content"]] for m in messages]

    return run


def llama_cpp_runner(path: Path, new_tokens: int, threads: int) -> Runner:
    """llama-cpp-python as its users drive it: the GGUF file's chat template, then `generate`."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = Llama(str(path), n_ctx=2048, n_threads=threads or None, n_threads_batch=threads or None, verbose=False)
    eos, bos = (llama.detokenize([t], special=True).decode() for t in (llama.token_eos(), llama.token_bos()))
    formatter = Jinja2ChatFormatter(llama.metadata["tokenizer.chat_template"], eos_token=eos, bos_token=bos)

    def run(prompts: list[str]) -> list[list[int]]:
        out = []
        for prompt in prompts:
            text = formatter(messages=[{"role": "user", "content": prompt}]).prompt
            tokens = llama.tokenize(text.encode(), add_bos=False, special=True)
            out.append(list(itertools.islice(llama.generate(tokens, temp=0.0), new_tokens)))
        return out

    return run


def transformers_runner(folder: Path, new_tokens: int) -> Runner:
    """Plain `transformers` `generate` on the same float32 weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()

    def run(prompts: list[str]) -> list[list[int]]:
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                               tokenize=False) for p in prompts]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False, eos_token_id=None,
                                 pad_token_id=tokenizer.pad_token_id)
        return out[:, enc["input_ids"].shape[1]:].tolist()

    return run


def _matching_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens two greedy outputs share."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _timed(runner: Runner, prompts: list[str]) -> tuple[list[list[int]], float]:
    start = time.perf_counter()
    tokens = runner(prompts)
    return tokens, time.perf_counter() - start


def measure_speed(runners: dict[str, Runner], args: argparse.Namespace) -> tuple[dict, dict]:
    """Best tokens/s of each engine at each batch size (engines alternate, so that all of them
    see the same machine load), and the last outputs of each."""
    tok_s: dict[str, dict[str, float]] = {name: {} for name in runners}
    outputs: dict[str, dict[int, list[list[int]]]] = {name: {} for name in runners}
    for batch in args.batches:
        prompts = (PROMPTS * 4)[:batch]
        for runner in runners.values():
            runner(prompts[:1])  # warm-up: builds decoders, touches the weights
        best = dict.fromkeys(runners, float("inf"))
        for _ in range(args.repeats):
            for name, runner in runners.items():
                outputs[name][batch], seconds = _timed(runner, prompts)
                assert all(len(t) == args.new_tokens for t in outputs[name][batch]), name
                best[name] = min(best[name], seconds)
        for name in runners:
            tok_s[name][str(batch)] = round(batch * args.new_tokens / best[name], 1)
        print(f"batch {batch:>2}: " + "   ".join(f"{name} {tok_s[name][str(batch)]:>6.1f}" for name in runners)
              + "  tok/s", flush=True)
    return tok_s, outputs


def run(args: argparse.Namespace) -> dict:
    from coachgraph.config import Settings
    from coachgraph.models import load_chat_model
    from coachgraph.models.weights import PACKAGED_WEIGHTS, packaged_checkpoint

    with tempfile.TemporaryDirectory() as cache:
        load_cold = measure_load(Path(cache))
        cached_samples = [measure_load(Path(cache)) for _ in range(3)]
    spec = Settings.from_env().inference_model
    extra = {"threads": args.llama_threads} if spec.startswith("llamacpp") and args.llama_threads else {}
    local = load_chat_model("smollm2", precision=args.precision)
    runners = {
        "default": chat_runner(load_chat_model(spec, **extra), args.new_tokens),
        "local": chat_runner(local, args.new_tokens),
        "llama.cpp": llama_cpp_runner(PACKAGED_WEIGHTS["smollm2"].path(), args.new_tokens, args.llama_threads),
        "transformers": transformers_runner(packaged_checkpoint("smollm2"), args.new_tokens),
    }
    tok_s, outputs = measure_speed(runners, args)
    result: dict = {"tok_s": tok_s, "default_spec": spec, "precision": args.precision, "new_tokens": args.new_tokens,
                    "llama_threads": args.llama_threads or "llama-cpp-python default"}
    top = str(max(args.batches))
    result["goals"] = {
        "default_invoke_vs_llama_cpp_batch_1": round(tok_s["default"]["1"] / tok_s["llama.cpp"]["1"], 2)
        if "1" in tok_s["default"] else None,
        f"local_batch_vs_llama_cpp_batch_{top}": round(tok_s["local"][top] / tok_s["llama.cpp"][top], 2),
    }
    result["goals_met"] = ((result["goals"]["default_invoke_vs_llama_cpp_batch_1"] or 0) >= 1.0
                           and result["goals"][f"local_batch_vs_llama_cpp_batch_{top}"] >= 2.0)
    rows = [(a, b) for batch in args.batches for a, b in zip(outputs["local"][batch], outputs["transformers"][batch],
                                                             strict=True)]
    result["local_identical_to_fp32"] = f"{sum(a == b for a, b in rows)}/{len(rows)}"
    result["local_mean_matching_prefix"] = round(statistics.mean(_matching_prefix(a, b) for a, b in rows), 1)
    alone = {p: chat_runner(local, args.new_tokens)([p])[0] for p in (PROMPTS * 4)[:max(args.batches)]}
    batched = [(alone[p], t) for batch in args.batches for p, t in zip((PROMPTS * 4)[:batch], outputs["local"][batch],
                                                                       strict=True)]
    result["local_batch_equals_alone"] = f"{sum(a == b for a, b in batched)}/{len(batched)}"
    result["load_s_cold"] = round(load_cold, 2)
    result["load_s_cached"] = round(statistics.median(cached_samples), 2)
    result["load_s_cached_samples"] = [round(x, 2) for x in cached_samples]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32", "bf16"], help="of the local spec")
    parser.add_argument("--llama-threads", type=int, default=0,
                        help="llama.cpp threads for both llama.cpp columns (0: llama-cpp-python's defaults)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    result = run(args)
    print(f"goals: default invoke / llama.cpp at batch 1 = {result['goals']['default_invoke_vs_llama_cpp_batch_1']} "
          f"(>= 1), local batch / llama.cpp at batch {max(args.batches)} = "
          f"{result['goals'][f'local_batch_vs_llama_cpp_batch_{max(args.batches)}']} (>= 2): "
          f"{'met' if result['goals_met'] else 'NOT met'}")
    print(f"default spec {result['default_spec']}; local {result['precision']}: greedy outputs identical to float32 "
          f"transformers {result['local_identical_to_fp32']} (mean matching prefix "
          f"{result['local_mean_matching_prefix']} of {args.new_tokens}), batch() equal to invoke() alone "
          f"{result['local_batch_equals_alone']}")
    print(f"load: cold {result['load_s_cold']} s, cached {result['load_s_cached']} s; "
          f"peak RSS {result['peak_rss_mb']} MB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
