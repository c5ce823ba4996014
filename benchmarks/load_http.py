"""Load generator for the recommender HTTP API: a fixed request rate for a fixed time, loopback only.

Starts `coachgraph serve` in a child process on 127.0.0.1 (or targets a server already running
there with --url), sends POST /v1/recommend/next at --rate requests/s for --seconds from a
bounded pool of connections, and reports the achieved rate, latency percentiles and every
error. Requests are paced open-loop, so a slow server shows up as a missed rate, not hidden.

Run: ``python benchmarks/load_http.py --store traces.sqlite --rate 500 --seconds 30``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import urlparse

import httpx

MAX_CONNECTIONS = 64
"""Upper bound on concurrent connections (the generator never floods the host)."""
TASKS = ["Find flights from Paris to Rome next week", "Summarise the latest sales report",
         "Translate this note into German", "What is the weather in Oslo tomorrow?",
         "Compute the monthly loan payment", "Search the web for recent papers on agents"]


def start_server(store: str, port: int, api_key: str | None) -> subprocess.Popen[bytes]:
    """`coachgraph serve` for `store` on 127.0.0.1:`port` (the recommender must already be trained)."""
    code = ("import typer; from coachgraph.cli import recommend; app = typer.Typer(); "
            "recommend.register(app); app()")
    cmd = [sys.executable, "-c", code, "serve", "--store", store, "--port", str(port), "--host", "127.0.0.1"]
    env = {**os.environ, **({"COACHGRAPH_API_KEY": api_key} if api_key else {})}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_ready(client: httpx.AsyncClient, url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get(f"{url}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    raise TimeoutError(f"server at {url} not ready after {timeout:.0f} s")


async def one(client: httpx.AsyncClient, url: str, headers: dict[str, str], rng: random.Random,
              latencies: list[float], errors: Counter[str]) -> None:
    start = time.perf_counter()
    try:
        r = await client.post(f"{url}/v1/recommend/next", json={"task": rng.choice(TASKS), "k": 5}, headers=headers)
        if r.status_code != 200:
            errors[f"HTTP {r.status_code}"] += 1
    except httpx.HTTPError as exc:
        errors[type(exc).__name__] += 1
    latencies.append(1000 * (time.perf_counter() - start))


async def run(url: str, rate: float, seconds: float, api_key: str | None) -> None:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    rng = random.Random(0)
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        await wait_ready(client, url)
        if api_key:
            denied = await client.post(f"{url}/v1/recommend/next", json={"task": "x"})
            print(f"without the key: HTTP {denied.status_code} (401 expected)")
        tasks, start = [], time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, url, headers, rng, latencies, errors)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    print(f"sent {len(tasks)} requests in {elapsed:.1f} s: achieved {len(tasks) / elapsed:.0f} req/s "
          f"(target {rate:.0f}); errors: {sum(errors.values())} {dict(errors)}")
    print(f"latency ms: p50 {statistics.median(latencies):.1f}, p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="Start a server for this store.")
    parser.add_argument("--url", help="Target a server already running on loopback instead.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--api-key", default="bench-key")
    args = parser.parse_args()
    url = args.url or f"http://127.0.0.1:{args.port}"
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load generation is limited to loopback addresses")
    server = start_server(args.store, args.port, args.api_key) if args.url is None else None
    try:
        asyncio.run(run(url, min(args.rate, 2000.0), min(args.seconds, 120.0), args.api_key))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
