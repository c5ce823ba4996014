"""Abuse the recommender HTTP API while good requests run: it must stay up and answer them all.

Starts `coachgraph serve` on 127.0.0.1 (any free port, read from its startup line; the key from
COACHGRAPH_API_KEY) or targets a server already running there with --url and --api-key. For
--seconds it sends, side by side:

- good: POST /v1/recommend/next with the key, paced at --rate requests/s on keep-alive connections;
- no-key-100MB: a request that declares a 100 MB body, without the key, headers only;
- declared-100MB: the same with the key;
- streamed-100MB: a 100 MB chunked body with the key, pushed as fast as the socket takes it;
- slowloris: --slow connections that trickle a request head one byte a second (reopened when closed);
- slow-body: a body that trickles one byte a second;
- malformed: broken JSON, wrong types, bad UTF-8, deep nesting, not HTTP at all, an oversized
  header, an unknown path.

It prints, per kind of request, the statuses seen, how long answers took and how many body bytes
the client got to send, then the server's health and peak memory; the exit status is 1 when a
good request was not answered with 200 or an abusive one got another answer than expected.

Run: ``python benchmarks/abuse_http.py --store traces.sqlite --seconds 40 --json abuse.json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlparse

import psutil

HUNDRED_MB = 100 * 1024 * 1024
KEY = "abuse-test-key"


@dataclass
class Outcome:
    kind: str
    status: int | None
    """HTTP status, or None when the server closed the connection without one."""
    seconds: float
    body_sent: int = 0
    """Body bytes the client managed to send."""


def start_server(store: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    """`coachgraph serve` on a free loopback port; its URL, read from the startup line."""
    cmd = [sys.executable, "-m", "coachgraph.cli.main", "serve", "--store", store, "--port", "0",
           "--workers", str(workers)]
    process = subprocess.Popen(cmd, env={**os.environ, "COACHGRAPH_API_KEY": KEY}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    print(f"server: {line}", flush=True)
    if " at http://" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {process.stderr.read() if process.stderr else ''}")
    return process, line.split(" at ", 1)[1].split(" ", 1)[0]


def drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    """Keep the server's stderr (its access log) flowing, and keep it."""
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line.rstrip("\n"))


class Target:
    def __init__(self, url: str, key: str) -> None:
        parsed = urlparse(url)
        self.host, self.port, self.key = parsed.hostname or "127.0.0.1", parsed.port or 80, key

    def head(self, path: str, *, key: bool = True, length: int | None = None, extra: str = "") -> bytes:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Content-Type: application/json"]
        lines += [f"Authorization: Bearer {self.key}"] if key else []
        lines += [f"Content-Length: {length}"] if length is not None else []
        return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()

    def request(self, path: str, body: bytes, **kwargs: Any) -> bytes:
        return self.head(path, length=len(body), **kwargs) + body

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port, limit=1 << 20)


async def read_status(reader: asyncio.StreamReader, timeout: float) -> int | None:
    """The status of one response (its body read too), or None when the connection closes first."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(v) for k, _, v in (line.partition(":") for line in lines[1:])
                   if k.strip().lower() == "content-length"), 0)
    try:
        await asyncio.wait_for(reader.readexactly(length), timeout)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    return int(lines[0].split()[1])


async def one_shot(target: Target, kind: str, payload: bytes, timeout: float = 60.0) -> Outcome:
    start = time.perf_counter()
    reader, writer = await target.connect()
    try:
        writer.write(payload)
        await writer.drain()
        status = await read_status(reader, timeout)
    except ConnectionError:
        status = None
    finally:
        writer.close()
    return Outcome(kind, status, time.perf_counter() - start)


async def streamed_body(target: Target) -> Outcome:
    """Push a 100 MB chunked body as fast as the socket takes it; count what got through."""
    start, sent, chunk = time.perf_counter(), 0, b"x" * 65536
    reader, writer = await target.connect()
    status = None
    try:
        writer.write(target.head("/v1/recommend/next", extra="Transfer-Encoding: chunked\r\n"))
        while sent < HUNDRED_MB:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await asyncio.wait_for(writer.drain(), 10)
            sent += len(chunk)
    except (ConnectionError, TimeoutError):
        pass
    try:
        status = await read_status(reader, 5)
    except (ConnectionError, TimeoutError):
        status = None
    writer.close()
    return Outcome("streamed-100MB", status, time.perf_counter() - start, sent)


async def slow_head(target: Target, stop: float) -> Outcome:
    """Trickle a request head a byte a second until the server answers or closes."""
    start = time.perf_counter()
    reader, writer = await target.connect()
    text = target.head("/v1/recommend/next", length=2)
    status: int | None = None
    for byte in text:
        if time.perf_counter() > stop + 15:
            break
        try:
            writer.write(bytes([byte]))
            await writer.drain()
            status = await read_status(reader, 1.0)
            break
        except TimeoutError:
            continue
        except ConnectionError:
            break
    writer.close()
    return Outcome("slowloris", status, time.perf_counter() - start)


async def slow_body(target: Target) -> Outcome:
    start = time.perf_counter()
    reader, writer = await target.connect()
    writer.write(target.head("/v1/recommend/next", length=200))
    sent, status = 0, None
    while status is None and sent < 200:
        writer.write(b" ")
        await writer.drain()
        sent += 1
        try:
            status = await read_status(reader, 1.0)
        except TimeoutError:
            continue
    writer.close()
    return Outcome("slow-body", status, time.perf_counter() - start, sent)


def malformed_payloads(target: Target) -> dict[str, bytes]:
    path = "/v1/recommend/next"
    return {
        "broken-json": target.request(path, b'{"task": '),
        "wrong-types": target.request(path, json.dumps({"task": ["x"], "k": "many"}).encode()),
        "bad-utf8": target.request(path, b'{"task": "\xff\xfe"}'),
        "deep-nesting": target.request(path, b"[" * 400_000 + b"]" * 400_000),
        "not-http": b"THIS IS NOT HTTP\r\n\r\n",
        "huge-header": target.head("/healthz", extra=f"X-Filler: {'a' * 100_000}\r\n"),
        "unknown-path": target.request("/v1/nothing", b"{}"),
        "bad-length": target.head(path, extra="Content-Length: -5\r\n"),
    }


async def every(period: float, stop: float, make: Any, out: list[Outcome]) -> None:
    while time.perf_counter() < stop:
        began = time.perf_counter()
        result = await make()
        out.extend(result if isinstance(result, list) else [result])
        await asyncio.sleep(max(0.0, period - (time.perf_counter() - began)))


async def good_traffic(target: Target, rate: float, stop: float, out: list[Outcome]) -> None:
    tasks = ["What is the weather in Oslo tomorrow?", "Translate this note into German",
             "Compute the monthly loan payment", "Find flights from Paris to Rome"]
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(16):
        pool.put_nowait(await target.connect())

    async def one(i: int) -> None:
        payload = target.request("/v1/recommend/next", json.dumps({"task": tasks[i % len(tasks)], "k": 5}).encode())
        reader, writer = await pool.get()
        start = time.perf_counter()
        try:
            writer.write(payload)
            await writer.drain()
            status = await read_status(reader, 30)
        except (ConnectionError, TimeoutError):
            status = None
        out.append(Outcome("good", status, time.perf_counter() - start))
        if status is None:
            writer.close()
            reader, writer = await target.connect()
        pool.put_nowait((reader, writer))

    start, pending, i = time.perf_counter(), [], 0
    while time.perf_counter() < stop:
        pending.append(asyncio.create_task(one(i)))
        i += 1
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
    await asyncio.gather(*pending)
    while not pool.empty():
        pool.get_nowait()[1].close()


async def slowloris(target: Target, n: int, stop: float, out: list[Outcome]) -> None:
    async def keep_one() -> None:
        while time.perf_counter() < stop:
            out.append(await slow_head(target, stop))

    await asyncio.gather(*(keep_one() for _ in range(n)))


async def abuse(target: Target, args: argparse.Namespace) -> list[Outcome]:
    stop = time.perf_counter() + args.seconds
    out: list[Outcome] = []
    no_key = target.head("/v1/recommend/next", key=False, length=HUNDRED_MB)
    declared = target.head("/v1/recommend/next", length=HUNDRED_MB)

    async def malformed() -> list[Outcome]:
        return [await one_shot(target, f"malformed:{name}", payload)
                for name, payload in malformed_payloads(target).items()]

    await asyncio.gather(
        good_traffic(target, args.rate, stop, out),
        every(1.0, stop, lambda: one_shot(target, "no-key-100MB", no_key), out),
        every(1.0, stop, lambda: one_shot(target, "declared-100MB", declared), out),
        every(3.0, stop, lambda: streamed_body(target), out),
        every(2.0, stop, malformed, out),
        every(1.0, stop - 30, lambda: slow_body(target), out),
        slowloris(target, args.slow, stop, out),
    )
    return out


EXPECTED: dict[str, set[int | None]] = {
    "good": {200}, "no-key-100MB": {401}, "declared-100MB": {413}, "streamed-100MB": {413, None},
    "slowloris": {408}, "slow-body": {408},
    "malformed:broken-json": {422}, "malformed:wrong-types": {422}, "malformed:bad-utf8": {400, 422},
    "malformed:deep-nesting": {400, 422}, "malformed:not-http": {400}, "malformed:huge-header": {431},
    "malformed:unknown-path": {404}, "malformed:bad-length": {400},
}
"""The answers each kind of request must get; anything else fails the run."""


def report(outcomes: list[Outcome]) -> tuple[list[dict[str, Any]], bool]:
    by_kind: defaultdict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    rows, ok = [], True
    print(f"\n{'request':26} {'sent':>6} {'statuses':28} {'p50 s':>7} {'max s':>7} {'max body bytes sent':>20}")
    for kind in EXPECTED:
        got = by_kind.get(kind, [])
        statuses = Counter("closed" if o.status is None else o.status for o in got)
        good = bool(got) and all(o.status in EXPECTED[kind] for o in got)
        if kind == "streamed-100MB":
            good = good and all(o.body_sent < HUNDRED_MB for o in got)
        ok &= good
        secs = [o.seconds for o in got] or [0.0]
        row = {"request": kind, "sent": len(got), "statuses": dict(statuses), "p50_s": statistics.median(secs),
               "max_s": max(secs), "max_body_sent": max((o.body_sent for o in got), default=0), "as_expected": good}
        rows.append(row)
        shown = ", ".join(f"{k}: {v}" for k, v in statuses.items())
        print(f"{kind:26} {len(got):>6} {shown:28} {row['p50_s']:>7.3f} {row['max_s']:>7.3f} "
              f"{row['max_body_sent']:>20,}{'' if good else '   <- NOT AS EXPECTED'}")
    return rows, ok


def watch_memory(pid: int, peak: list[int], stop: threading.Event) -> None:
    """Resident memory of the server and its worker processes, sampled every 0.2 s: the first
    sample (before the run) in `peak[1]`, the largest in `peak[0]`."""
    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            break
        peak[0] = max(peak[0], total)
        peak[1] = peak[1] or total
        stop.wait(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="Start a server for this store.")
    parser.add_argument("--url", help="Target a server already running on loopback instead.")
    parser.add_argument("--api-key", default=KEY, help="The key of the server given with --url.")
    parser.add_argument("--seconds", type=float, default=40.0, help="Length of the run (at least 35).")
    parser.add_argument("--rate", type=float, default=50.0, help="Good requests per second.")
    parser.add_argument("--slow", type=int, default=200, help="Slowloris connections held open.")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", help="Write the results here.")
    args = parser.parse_args()
    args.seconds = max(args.seconds, 35.0)
    if args.url is None and args.store is None:
        raise SystemExit("give --store (start a server) or --url (a running one)")
    if args.url and urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("abuse is limited to loopback addresses")
    process, url = start_server(args.store, args.workers) if args.url is None else (None, args.url)
    log: list[str] = []
    peak, stop = [0, 0], threading.Event()
    if process is not None:
        threading.Thread(target=drain, args=(process, log), daemon=True).start()
        threading.Thread(target=watch_memory, args=(process.pid, peak, stop), daemon=True).start()
    try:
        outcomes = asyncio.run(abuse(Target(url, args.api_key if args.url else KEY), args))
        rows, ok = report(outcomes)
        health = asyncio.run(one_shot(Target(url, ""), "health", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
        alive = process is None or process.poll() is None
        print(f"\nafter the run: /healthz {health.status}; server process alive: {alive}; "
              f"server memory {peak[1] / 2**20:.0f} MiB before the run, {peak[0] / 2**20:.0f} MiB at "
              f"its peak; access-log lines: {len(log)}")
        ok &= health.status == 200 and alive
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump({"rows": rows, "health": health.status, "alive": alive, "rss_before": peak[1], "rss_peak": peak[0],
                           "outcomes": [asdict(o) for o in outcomes]}, handle, indent=1)
    finally:
        stop.set()
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
    print("all good requests answered and every abusive one refused as expected" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
