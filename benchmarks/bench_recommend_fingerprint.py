"""Cost of knowing whether a recommender is fresh: the store fingerprint of a million-node store.

Every `recommend next` (and `coachgraph serve` at startup, `POST /v1/admin/reload`) compares the
fingerprint of the store with the one the model was trained on. This fills a SQLite store with
Who&When's real traces, replicated under new ids until it holds `--nodes` nodes, then times
`store_fingerprint` and the comparison after one more trace is stored (median of `--repeats`,
wall-clock and this process's CPU time).

Run: ``python benchmarks/bench_recommend_fingerprint.py`` (``--nodes 20000`` for a quick check).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.schema import CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.recommend.fingerprint import compare, store_fingerprint


def renamed(tree: CallTree, copy: int) -> CallTree:
    """`tree` under a new trace id (its nodes too)."""
    trace_id = f"{tree.trace_id}~{copy}"
    nodes = [n.model_copy(update={"trace_id": trace_id}) for n in tree.nodes]
    return tree.model_copy(update={"trace_id": trace_id, "nodes": nodes})


def fill(store: SQLiteCallTreeStore, originals: list[CallTree], target_nodes: int) -> None:
    """Store renamed copies of `originals` until the store holds `target_nodes` nodes."""
    total, copy, batch = store.stats().nodes, 0, []
    while total < target_nodes:
        for tree in originals:
            batch.append(renamed(tree, copy))
            total += len(tree.nodes)
            if len(batch) >= 500 or total >= target_nodes:
                store.put_trees(batch)
                batch = []
            if total >= target_nodes:
                break
        copy += 1


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of `fn()`."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/corpora")
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with SQLiteCallTreeStore(Path(folder) / "seed.sqlite") as seed:
            ingest(seed, "who-and-when", [args.corpora / "who_and_when"])
            originals = list(seed.iter_trees())
        with SQLiteCallTreeStore(Path(folder) / "big.sqlite") as store:
            fill(store, originals, args.nodes)
            stats = store.stats()
            trained = store_fingerprint(store)
            wall, cpu = timed(lambda: store_fingerprint(store), args.repeats)
            store.put_tree(renamed(originals[0], 10**6))
            changed = compare(trained, store_fingerprint(store))
            cmp_wall, cmp_cpu = timed(lambda: compare(trained, store_fingerprint(store)), args.repeats)
    print(f"store of {stats.nodes:,} nodes in {stats.traces:,} traces: fingerprint {wall:.0f} ms "
          f"(CPU {cpu:.0f} ms); fingerprint and comparison after one new trace {cmp_wall:.0f} ms "
          f"(CPU {cmp_cpu:.0f} ms): {changed.describe()}")


if __name__ == "__main__":
    main()
