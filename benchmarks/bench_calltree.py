"""Calling-tree store benchmark: ingest throughput per format, and fetch-by-id latency at scale.

Usage: python benchmarks/bench_calltree.py [--corpora DIR] [--nodes 1000000] [--repeats 5] [--json PATH]

Throughput is given per wall-clock second and per second of this process's CPU time, and fetch
latency in wall-clock and CPU milliseconds; the CPU figures show the code's own cost when other
work shares the cores.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from coachgraph.calltree.export import EXPORTERS
from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.schema import CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore

__all__ = ["main"]

CORPORA = {"who-and-when": "who_and_when", "seal-tools": "seal_tools", "nestful": "nestful",
           "toolbench-dfsdt": "toolbench_dfsdt_examples", "adp": "adp_samples"}


def _timed_ingest(fmt: str, inputs: list[Path], work: Path, repeats: int) -> dict[str, float]:
    """Ingest `repeats` times, each into a new store; the median run's times (the corpora are
    small, so one run's figure moves with whatever else the machine does in that fraction of a second)."""
    runs = []
    for _ in range(repeats):
        for leftover in work.glob(f"{fmt}.sqlite*"):
            leftover.unlink()
        with SQLiteCallTreeStore(work / f"{fmt}.sqlite") as store:
            start, cpu = time.perf_counter(), time.process_time()
            report = ingest(store, fmt, inputs)
            runs.append((time.perf_counter() - start, time.process_time() - cpu))
    seconds, cpu_seconds = sorted(runs)[len(runs) // 2]
    return {"traces": report.traces, "nodes": report.nodes, "seconds": seconds, "repeats": repeats,
            "nodes_per_s": report.nodes / seconds, "cpu_seconds": cpu_seconds,
            "nodes_per_cpu_s": report.nodes / cpu_seconds, "quarantined": report.rejected}


def bench_ingest(corpora: Path, work: Path, repeats: int = 5) -> dict[str, dict[str, float]]:
    """Ingest every corpus, then its export as OTLP/JSON and agent-rec, each into a new store."""
    results = {fmt: _timed_ingest(fmt, [corpora / folder], work, repeats) for fmt, folder in CORPORA.items()}
    with SQLiteCallTreeStore(work / "adp.sqlite") as store:
        trees = list(store.iter_trees())
    with SQLiteCallTreeStore(work / "seal-tools.sqlite") as store:
        trees += list(store.iter_trees())
    EXPORTERS["otlp-json"](trees, work / "all.json", [])
    EXPORTERS["agent-rec"](trees, work / "agent-rec", [])
    results["otlp-json"] = _timed_ingest("otlp-json", [work / "all.json"], work, repeats)
    results["agent-rec"] = _timed_ingest("agent-rec", [work / "agent-rec"], work, repeats)
    return results


def _replicas(trees: list[CallTree], target_nodes: int) -> list[CallTree]:
    copies, total, round_ = [], 0, 0
    while total < target_nodes:
        for tree in trees:
            trace_id = f"{tree.trace_id}#{round_}"
            nodes = [n.model_copy(update={"trace_id": trace_id}) for n in tree.nodes]
            copies.append(tree.model_copy(update={"trace_id": trace_id, "nodes": nodes}))
            total += len(nodes)
            if total >= target_nodes:
                break
        round_ += 1
    return copies


def bench_fetch(seed_store: Path, work: Path, target_nodes: int, queries: int, seed: int
                ) -> dict[str, float]:
    """Fill a store with replicated real traces (new ids) to `target_nodes`, then time fetches."""
    with SQLiteCallTreeStore(seed_store) as store:
        originals = list(store.iter_trees())
    path = work / "big.sqlite"
    with SQLiteCallTreeStore(path) as big:
        start = time.perf_counter()
        batch: list[CallTree] = []
        for tree in _replicas(originals, target_nodes):
            batch.append(tree)
            if len(batch) >= 500:
                big.put_trees(batch)
                batch = []
        big.put_trees(batch)
        fill = time.perf_counter() - start
        stats = big.stats()
    with SQLiteCallTreeStore(path) as reader:
        ids = reader.trace_ids()
        rng = random.Random(seed)
        sample = [rng.choice(ids) for _ in range(queries)]
        latencies, cpu = [], []
        for trace_id in sample:
            start, start_cpu = time.perf_counter(), time.thread_time()
            reader.get_tree(trace_id)
            latencies.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    latencies.sort()
    cpu.sort()
    return {"stored_nodes": stats.nodes, "stored_traces": stats.traces, "fill_s": fill,
            "fill_nodes_per_s": stats.nodes / fill, "fetch_ms_p50": statistics.median(latencies),
            "fetch_ms_p95": _percentile(latencies, 0.95),
            "fetch_ms_p99": _percentile(latencies, 0.99),
            "fetch_cpu_ms_p50": statistics.median(cpu), "fetch_cpu_ms_p99": _percentile(cpu, 0.99),
            "fetch_ms_max": latencies[-1]}


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[int(fraction * (len(ordered) - 1))]


def _table(ingest_results: dict[str, dict[str, float]], fetch: dict[str, float]) -> str:
    lines = [f"{'format':<16} {'traces':>7} {'nodes':>8} {'seconds':>8} {'nodes/s':>9} "
             f"{'nodes/cpu-s':>11} {'quar.':>5}"]
    for fmt, r in ingest_results.items():
        lines.append(f"{fmt:<16} {r['traces']:>7} {r['nodes']:>8} {r['seconds']:>8.2f} "
                     f"{r['nodes_per_s']:>9.0f} {r['nodes_per_cpu_s']:>11.0f} "
                     f"{r['quarantined']:>5}")
    lines.append("")
    lines.extend(f"{key:<18} {value:>12.3f}" for key, value in fetch.items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run both benchmarks, print a table and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared/data/corpora")
    parser.add_argument("--nodes", type=int, default=1_000_000, help="stored nodes for fetches")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5, help="ingests per format (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        ingest_results = bench_ingest(args.corpora, work, args.repeats)
        fetch = bench_fetch(work / "who-and-when.sqlite", work, args.nodes, args.queries,
                            args.seed)
    print(_table(ingest_results, fetch))
    result: dict[str, object] = {"ingest": ingest_results, "fetch": fetch, "nodes": args.nodes}
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
