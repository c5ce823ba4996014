"""Load generator for the recommender HTTP API: a fixed request rate for a fixed time, loopback only.

Starts `coachgraph serve` in a child process on 127.0.0.1 (or targets a server already running
there with --url), sends POST /v1/recommend/next at --rate requests/s for --seconds over a
bounded pool of keep-alive connections, and reports the achieved rate, latency percentiles and
every error. Requests are paced open-loop, so a slow server shows up as a missed rate and as
latency, never hidden. The generator shares the machine with the server, so it speaks plain
HTTP/1.1 over asyncio streams: a full client library costs more CPU per request than the
server's own work and would measure itself.

Run: ``python benchmarks/load_http.py --store traces.sqlite --rate 500 --seconds 30``
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
TIMEOUT_S = 10.0
"""A request unanswered after this long counts as an error."""
TASKS = ["Find flights from Paris to Rome next week", "Summarise the latest sales report",
         "Translate this note into German", "What is the weather in Oslo tomorrow?",
         "Compute the monthly loan payment", "Search the web for recent papers on agents"]


def start_server(store: str, port: int, api_key: str | None, workers: int) -> subprocess.Popen[bytes]:
    """`coachgraph serve` for `store` on 127.0.0.1:`port` (the recommender is trained if absent)."""
    cmd = [sys.executable, "-m", "coachgraph.cli.main", "serve", "--store", store, "--port", str(port),
           "--host", "127.0.0.1", "--workers", str(workers), "--no-access-log"]
    env = {**os.environ, **({"COACHGRAPH_API_KEY": api_key} if api_key else {})}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_ready(url: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(f"server at {url} not ready after {timeout:.0f} s")


def request_bytes(host: str, port: int, task: str, api_key: str | None) -> bytes:
    body = json.dumps({"task": task, "k": 5}).encode()
    auth = f"Authorization: Bearer {api_key}\r\n" if api_key else ""
    head = (f"POST /v1/recommend/next HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def exchange(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], payload: bytes) -> int:
    """Send one request on a keep-alive connection and read the whole response; its status."""
    reader, writer = conn
    writer.write(payload)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(v) for k, _, v in (line.partition(":") for line in lines[1:])
                   if k.strip().lower() == "content-length"), 0)
    await reader.readexactly(length)
    return int(lines[0].split()[1])


class Pool:
    """Keep-alive connections handed out one request at a time; a broken one is replaced."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.free.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def send(self, payload: bytes) -> int:
        conn = await self.free.get()
        try:
            status = await asyncio.wait_for(exchange(conn, payload), TIMEOUT_S)
        except BaseException:
            conn[1].close()
            self.free.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise
        self.free.put_nowait(conn)
        return status

    def close(self) -> None:
        while not self.free.empty():
            self.free.get_nowait()[1].close()


async def one(pool: Pool, payload: bytes, latencies: list[float], errors: Counter[str]) -> None:
    start = time.perf_counter()
    try:
        status = await pool.send(payload)
        if status != 200:
            errors[f"HTTP {status}"] += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        errors[type(exc).__name__] += 1
    latencies.append(1000 * (time.perf_counter() - start))


async def run(url: str, rate: float, seconds: float, api_key: str | None) -> None:
    await wait_ready(url)
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    if api_key:
        async with httpx.AsyncClient() as client:
            denied = await client.post(f"{url}/v1/recommend/next", json={"task": "x"})
        print(f"without the key: HTTP {denied.status_code} (401 expected)")
    rng = random.Random(0)
    payloads = [request_bytes(host, port, task, api_key) for task in TASKS]
    pool = Pool(host, port, MAX_CONNECTIONS)
    await pool.open()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    tasks, start = [], time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(pool, rng.choice(payloads), latencies, errors)))
    sent = time.perf_counter() - start
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    pool.close()
    latencies.sort()
    print(f"sent {len(tasks)} requests in {sent:.1f} s, all answered after {elapsed:.1f} s: "
          f"{len(tasks) / elapsed:.1f} req/s (target {rate:.0f}); errors: {sum(errors.values())} {dict(errors)}")
    print(f"latency ms: p50 {statistics.median(latencies):.1f}, p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f}, "
          f"max {latencies[-1]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="Start a server for this store.")
    parser.add_argument("--url", help="Target a server already running on loopback instead.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--api-key", default="bench-key")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (with --store).")
    args = parser.parse_args()
    url = args.url or f"http://127.0.0.1:{args.port}"
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load generation is limited to loopback addresses")
    if args.url is None and args.store is None:
        raise SystemExit("give --store (start a server) or --url (a running one)")
    server = start_server(args.store, args.port, args.api_key, args.workers) if args.url is None else None
    try:
        asyncio.run(run(url, min(args.rate, 2000.0), min(args.seconds, 120.0), args.api_key))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
