"""Generation speed of the embedded model: coachgraph's local backend against plain
`transformers` `generate`, side by side on the same prompts (greedy, fixed new tokens).

Prints a table and, with ``--json PATH``, writes::

    {"tok_s": {"ours": {"1": .., "8": .., "32": ..}, "plain": {...}},
     "ratio": {"1": r, "8": r, "32": r},
     "load_s_cold": s, "load_s_cached": s, "peak_rss_mb": mb,
     "identical_outputs": {"1": "k/n", ...}, "identical_total": "k/n", "precision": "..."}

Run: ``python benchmarks/bench_generate.py --json bench-out/generate.json``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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

_LOAD_SNIPPET = (
    "import time, sys; t = time.perf_counter(); "
    "from coachgraph.models import load_chat_model; m = load_chat_model('smollm2'); "
    "print(time.perf_counter() - t)"
)


def measure_load(cache: Path) -> float:
    """Seconds `load_chat_model('smollm2')` takes in a fresh process with this cache folder."""
    env = {**os.environ, "COACHGRAPH_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def plain_generate(model, tokenizer, texts: list[str], new_tokens: int) -> tuple[list[list[int]], float]:
    enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False, eos_token_id=None,
                             pad_token_id=tokenizer.pad_token_id)
    elapsed = time.perf_counter() - start
    return out[:, enc["input_ids"].shape[1]:].tolist(), elapsed


def ours_generate(lm, conversations, new_tokens: int) -> tuple[list[list[int]], float]:
    from coachgraph.models.sampling import SamplingParams

    params = SamplingParams(max_new_tokens=new_tokens, ignore_eos=True)
    start = time.perf_counter()
    completions = lm.generate(conversations, params)
    elapsed = time.perf_counter() - start
    return [[t.token_id for t in c[0].tokens] for c in completions], elapsed


def _matching_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens two greedy outputs share."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def run(args: argparse.Namespace) -> dict:
    from transformers import AutoModelForCausalLM

    from coachgraph.models.local import LocalLM
    from coachgraph.models.weights import packaged_checkpoint

    with tempfile.TemporaryDirectory() as cache:
        load_cold = measure_load(Path(cache))
        cached_samples = [measure_load(Path(cache)) for _ in range(3)]
        load_cached = statistics.median(cached_samples)
    folder = packaged_checkpoint("smollm2")
    lm = LocalLM(folder, precision=args.precision)
    plain = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = lm.tokenizer
    result: dict = {"tok_s": {"ours": {}, "plain": {}}, "ratio": {}, "identical_outputs": {},
                    "precision": args.precision, "new_tokens": args.new_tokens}
    same_total = rows_total = 0
    prefixes: list[int] = []
    for batch in args.batches:
        conversations = [[{"role": "user", "content": p}] for p in (PROMPTS * 4)[:batch]]
        texts = [lm.render(c) for c in conversations]
        ours_generate(lm, conversations[:1], 4)  # warm-up: builds the decoder, touches weights
        plain_generate(plain, tokenizer, texts[:1], 4)
        best_ours = best_plain = float("inf")
        for _ in range(args.repeats):  # alternate so both see the same machine load
            ours_tokens, t_ours = ours_generate(lm, conversations, args.new_tokens)
            plain_tokens, t_plain = plain_generate(plain, tokenizer, texts, args.new_tokens)
            best_ours, best_plain = min(best_ours, t_ours), min(best_plain, t_plain)
        generated = batch * args.new_tokens
        key = str(batch)
        result["tok_s"]["ours"][key] = round(generated / best_ours, 1)
        result["tok_s"]["plain"][key] = round(generated / best_plain, 1)
        result["ratio"][key] = round(best_plain / best_ours, 2)
        same = sum(a == b for a, b in zip(ours_tokens, plain_tokens, strict=True))
        result["identical_outputs"][key] = f"{same}/{batch}"
        prefixes.extend(_matching_prefix(a, b) for a, b in zip(ours_tokens, plain_tokens, strict=True))
        same_total, rows_total = same_total + same, rows_total + batch
        print(f"batch {batch:>2}: ours {result['tok_s']['ours'][key]:>7.1f} tok/s   "
              f"plain {result['tok_s']['plain'][key]:>7.1f} tok/s   ratio {result['ratio'][key]:.2f}   "
              f"identical {same}/{batch}", flush=True)
    result["identical_total"] = f"{same_total}/{rows_total}"
    result["mean_matching_prefix_tokens"] = round(sum(prefixes) / len(prefixes), 1)
    result["load_s_cold"] = round(load_cold, 2)
    result["load_s_cached"] = round(load_cached, 2)
    result["load_s_cached_samples"] = [round(x, 2) for x in cached_samples]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32", "bf16"])
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    torch.manual_seed(0)
    result = run(args)
    print(f"load: cold {result['load_s_cold']} s, cached {result['load_s_cached']} s; "
          f"peak RSS {result['peak_rss_mb']} MB; identical greedy outputs {result['identical_total']} "
          f"(precision {result['precision']}; mean matching prefix {result['mean_matching_prefix_tokens']} "
          f"of {result['new_tokens']} tokens)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
