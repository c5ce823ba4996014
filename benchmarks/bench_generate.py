"""Generation speed and batch invariance of the embedded SmolLM2: coachgraph's local decoder beside
llama.cpp, every engine through its public interface, in one run.

Engines (greedy, a fixed number of new tokens with end tokens ignored, the same chat prompts):

- ``ours``: the ``smollm2`` spec (the lean decoder, int8 by default), a langchain-core chat
  model: `invoke()` at batch 1, `batch()` above (its calls share forward passes);
- ``llamacpp``: the ``llamacpp`` spec on the same model's GGUF file, the same chat-model
  interface (its `batch()` runs the prompts one after another: llama-cpp-python's `Llama`
  generates one sequence at a time);
- ``llama-cpp-python``: the binding driven directly (`Llama.generate` on the chat-template
  prompt), which shows what the ``llamacpp`` spec's log-probs and sampling cost;
- ``transformers``: `model.generate` on the float32 weights, the batch left-padded.

Prints tokens/s per engine and batch size with ours / llamacpp beside them, how many `batch()`
answers equal the same prompt's `invoke()` alone (batch invariance), how many greedy answers
equal float32 transformers', and load times. ``--json PATH`` writes the same figures.

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
from typing import Any

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

ENGINES = ("ours", "llamacpp", "llama-cpp-python", "transformers")
CHAT_ENGINES = ("ours", "llamacpp")
"""The engines that are coachgraph chat models (checked for batch invariance)."""

_LOAD_SNIPPET = (
    "import sys, time; t = time.perf_counter(); "
    "from coachgraph.models import load_chat_model; load_chat_model(sys.argv[1]); "
    "print(time.perf_counter() - t)"
)

Runner = Callable[[list[str]], list[list[int]]]
"""Generates for a list of prompts; returns each prompt's new token ids."""


def prompts_for(batch: int) -> list[str]:
    """The first `batch` prompts (repeated past the end of the list)."""
    return list(itertools.islice(itertools.cycle(PROMPTS), batch))


def measure_load(spec: str, cache: Path) -> float:
    """Seconds `load_chat_model(spec)` takes in a fresh process with this cache folder, imports included."""
    env = {**os.environ, "COACHGRAPH_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET, spec], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def load_times() -> dict[str, Any]:
    """The local spec's first load (GGUF dequantized into an empty cache) and later loads, and
    the llamacpp spec's load."""
    with tempfile.TemporaryDirectory() as cache:
        cold = measure_load("smollm2", Path(cache))
        cached = [round(measure_load("smollm2", Path(cache)), 2) for _ in range(3)]
        llamacpp = [round(measure_load("llamacpp", Path(cache)), 2) for _ in range(3)]
    return {"ours_cold_s": round(cold, 2), "ours_cached_s": statistics.median(cached), "ours_cached_samples": cached,
            "llamacpp_s": statistics.median(llamacpp), "llamacpp_samples": llamacpp}


def chat_runner(chat: Any, new_tokens: int) -> Runner:
    """A coachgraph chat model: `invoke()` for one prompt, `batch()` for several."""

    def run(prompts: list[str]) -> list[list[int]]:
        options = {"max_tokens": new_tokens, "ignore_eos": True}
        messages = [chat.invoke(prompts[0], **options)] if len(prompts) == 1 else chat.batch(prompts, **options)
        return [[e["token_id"] for e in m.response_metadata["logprobs"]["content"]] for m in messages]

    return run


def binding_runner(path: Path, new_tokens: int, threads: int) -> Runner:
    """llama-cpp-python as its users drive it: the GGUF file's chat template, then `generate`."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = Llama(str(path), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
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


def build_runners(args: argparse.Namespace) -> dict[str, Runner]:
    """The engines `args.engines` names, loaded, each with `args.threads` threads."""
    from coachgraph.models import load_chat_model
    from coachgraph.models.weights import PACKAGED_WEIGHTS, packaged_checkpoint

    factories: dict[str, Callable[[], Runner]] = {
        "ours": lambda: chat_runner(load_chat_model("smollm2", precision=args.precision), args.new_tokens),
        "llamacpp": lambda: chat_runner(load_chat_model("llamacpp", threads=args.threads), args.new_tokens),
        "llama-cpp-python": lambda: binding_runner(PACKAGED_WEIGHTS["smollm2"].path(), args.new_tokens,
                                                   args.threads),
        "transformers": lambda: transformers_runner(packaged_checkpoint("smollm2"), args.new_tokens),
    }
    return {name: factories[name]() for name in ENGINES if name in args.engines}


def _timed(runner: Runner, prompts: list[str]) -> tuple[list[list[int]], float]:
    start = time.perf_counter()
    tokens = runner(prompts)
    return tokens, time.perf_counter() - start


def measure_speed(runners: dict[str, Runner], args: argparse.Namespace) -> tuple[dict, dict]:
    """Best tokens/s of each engine at each batch size (the engines take turns, so that all of
    them see the same machine load), and the outputs of each."""
    tok_s: dict[str, dict[str, float]] = {name: {} for name in runners}
    outputs: dict[str, dict[int, list[list[int]]]] = {name: {} for name in runners}
    for batch in args.batches:
        prompts = prompts_for(batch)
        for runner in runners.values():
            runner(prompts[:1])  # warm-up: builds decoders, touches the weights
        best = dict.fromkeys(runners, float("inf"))
        for _ in range(args.repeats):
            for name, runner in runners.items():
                outputs[name][batch], seconds = _timed(runner, prompts)
                if any(len(t) != args.new_tokens for t in outputs[name][batch]):
                    raise SystemExit(f"{name} did not generate {args.new_tokens} tokens for every prompt")
                best[name] = min(best[name], seconds)
        for name in runners:
            tok_s[name][str(batch)] = round(batch * args.new_tokens / best[name], 1)
        print(f"batch {batch:>2}: " + "   ".join(f"{name} {tok_s[name][str(batch)]:>6.1f}" for name in runners)
              + "  tok/s", flush=True)
    return tok_s, outputs


def _matching_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens two greedy outputs share.

    >>> _matching_prefix([1, 2, 3], [1, 2, 4])
    2
    """
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def batch_invariance(runner: Runner, outputs: dict[int, list[list[int]]]) -> str:
    """How many answers of the batched runs equal the same prompt's answer alone, as ``k/n``."""
    batched = [(p, tokens) for batch, rows in outputs.items() if batch > 1 for p, tokens in
               zip(prompts_for(batch), rows, strict=True)]
    alone = {p: runner([p])[0] for p in dict.fromkeys(p for p, _ in batched)}
    return f"{sum(alone[p] == tokens for p, tokens in batched)}/{len(batched)}"


def agreement(ours: dict[int, list[list[int]]], reference: dict[int, list[list[int]]]) -> dict[str, Any]:
    """How many greedy answers equal the reference's, and their mean matching prefix in tokens."""
    rows = [(a, b) for batch in ours for a, b in zip(ours[batch], reference[batch], strict=True)]
    return {"identical": f"{sum(a == b for a, b in rows)}/{len(rows)}",
            "mean_matching_prefix": round(statistics.mean(_matching_prefix(a, b) for a, b in rows), 1)}


def ratios(tok_s: dict[str, dict[str, float]]) -> dict[str, float]:
    """Ours over llamacpp's tokens/s at each batch size."""
    if not {"ours", "llamacpp"} <= tok_s.keys():
        return {}
    return {batch: round(tok_s["ours"][batch] / tok_s["llamacpp"][batch], 2) for batch in tok_s["ours"]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of the comparison, as the JSON file holds them."""
    result: dict[str, Any] = {"precision": args.precision, "new_tokens": args.new_tokens, "threads": args.threads,
                              "load": None if args.skip_load else load_times()}
    runners = build_runners(args)
    tok_s, outputs = measure_speed(runners, args)
    result.update(tok_s=tok_s, ours_over_llamacpp=ratios(tok_s))
    result["batch_equals_alone"] = {name: batch_invariance(runners[name], outputs[name])
                                    for name in CHAT_ENGINES if name in runners and max(args.batches) > 1}
    if "transformers" in runners:
        result["equal_to_fp32_transformers"] = {name: agreement(outputs[name], outputs["transformers"])
                                                for name in runners if name != "transformers"}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    """The side-by-side table and the invariance and agreement lines."""
    names = list(result["tok_s"])
    print(f"\ntok/s, greedy, {args.new_tokens} new tokens, {args.threads} threads, ours in {args.precision}")
    print("| batch | " + " | ".join(names) + (" | ours / llamacpp |" if result["ours_over_llamacpp"] else " |"))
    for batch in map(str, args.batches):
        ratio = result["ours_over_llamacpp"].get(batch)
        print(f"| {batch} | " + " | ".join(f"{result['tok_s'][n][batch]:.1f}" for n in names)
              + (f" | {ratio:.2f} |" if ratio is not None else " |"))
    for name, share in result["batch_equals_alone"].items():
        print(f"{name}: batch() answers equal to invoke() alone: {share}")
    for name, agree in result.get("equal_to_fp32_transformers", {}).items():
        print(f"{name}: greedy answers equal to float32 transformers {agree['identical']} "
              f"(mean matching prefix {agree['mean_matching_prefix']} of {args.new_tokens} tokens)")
    if result["load"]:
        load = result["load"]
        print(f"load in a fresh process: ours cold {load['ours_cold_s']} s, cached {load['ours_cached_s']} s; "
              f"llamacpp {load['llamacpp_s']} s")
    print(f"peak RSS {result['peak_rss_mb']} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32", "bf16"], help="of ours")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="threads of every engine: torch's and llama.cpp's (default: torch's default)")
    parser.add_argument("--skip-load", action="store_true", help="do not measure load times")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = run(args)
    report(result, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
