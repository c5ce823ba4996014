"""Run Python in a child process whose address space is capped, and read back what it printed.

An input that made a reader expand without bound would take the whole machine; under the cap
it fails at once with `MemoryError` instead, and the child's peak resident size is reported.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["GIB", "REPO", "ingest_capped", "run_capped"]

GIB = 1 << 30
REPO = Path(__file__).resolve().parents[2]

_INGEST = """
import json, sys
from pathlib import Path
from coachgraph.calltree.ingest import Limits, ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree.peak import peak_rss
args = json.loads(sys.argv[1])
with SQLiteCallTreeStore(":memory:") as store:
    report = ingest(store, args["format"], [Path(p) for p in args["inputs"]],
                    limits=Limits(**args["limits"]))
    traces = sorted(store.trace_ids())
print(json.dumps({"traces": traces, "rejected": report.rejected,
                  "reasons": [[r.source, r.reason] for r in report.quarantined],
                  "maxrss": peak_rss()}))
"""


def run_capped(code: str, *args: str, cap: int = GIB, timeout: float = 300) -> dict[str, Any]:
    """Run `code` (which prints one JSON object last) with `cap` bytes of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, env=env, cwd=REPO, check=False)
    assert done.returncode == 0, f"child failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def ingest_capped(fmt: str, inputs: list[Path], cap: int = GIB,
                  **limits: Any) -> dict[str, Any]:
    """Ingest into a new in-memory store in a capped child: stored trace ids, rejections,
    and the child's peak resident size in bytes (`maxrss`)."""
    args = {"format": fmt, "inputs": [str(p) for p in inputs], "limits": limits}
    return run_capped(_INGEST, json.dumps(args), cap=cap)
