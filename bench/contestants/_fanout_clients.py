"""The subscriber side of S5 (event fan-out), shared by Swarmyard and the
limit harness so one client measures both.

A server under test runs in a child process and writes `ready.json`
(`port`, `api_key`, `run_id`, `seq`: the run's last sequence number) into
its directory. For each round the client connects `n` subscribers over one
transport and waits until every one is subscribed (the WebSocket's `ok`
answer; for SSE the response head, sent once the server has subscribed),
then writes `go-K.json` (`events`, `interval_s`); the server publishes
that many events at that pace, each carrying its publish time
(`payload.t_pub`, `time.time()` just before the platform's publish path
starts), and writes `done-K`. An event's latency is publish → the last
subscriber to get it; events lost = deliveries expected (n × events) minus
deliveries made, once deliveries have stopped for a while after the last
publish (a backlog that drains late is slow, not lost).

The WebSocket side is the `websockets` client; the SSE side reads raw
HTTP/1.1 (chunked) on asyncio streams, parsing only `data:` lines, so that
a thousand subscribers in one process cost the client little.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import percentile
from websockets.asyncio.client import connect

__all__ = ["Round", "Target", "run_rounds"]

QUIET_S = 3.0  # after the last publish, no delivery for this long ends the round


@dataclass
class Target:
    """A server under test and how its transports are reached."""

    directory: Path
    ws_path: str
    sse_path: Callable[[str, int], str]  # (run_id, after) → path
    ws_subscribe: Callable[[str, int], dict[str, Any]]  # (run_id, after) → message
    ready: dict[str, Any] = field(default_factory=dict)

    def load(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        path = self.directory / "ready.json"
        while not path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} not written within {timeout:g} s")
            time.sleep(0.05)
        self.ready = json.loads(path.read_text())


@dataclass
class Round:
    transport: str
    subscribers: int
    events: int
    first_seq: int
    arrivals: dict[int, list[float]] = field(default_factory=dict)  # seq → arrival times
    published: dict[int, float] = field(default_factory=dict)  # seq → t_pub
    errors: list[str] = field(default_factory=list)

    def record(self, body: dict[str, Any], now: float) -> None:
        seq = int(body["seq"])
        if seq < self.first_seq or seq >= self.first_seq + self.events:
            return
        self.arrivals.setdefault(seq, []).append(now)
        self.published[seq] = float(body["payload"]["t_pub"])

    def delivered(self) -> int:
        return sum(len(v) for v in self.arrivals.values())

    def metrics(self) -> dict[str, float]:
        last = [1000 * (max(ts) - self.published[s]) for s, ts in self.arrivals.items()]
        key = f"{self.transport}_{self.subscribers}"
        return {
            f"{key}_p50_ms": percentile(last, 50),
            f"{key}_p99_ms": percentile(last, 99),
            f"{key}_lost": float(self.subscribers * self.events - self.delivered()),
        }


async def _ws_subscriber(t: Target, r: Round, ready: Callable[[], None]) -> None:
    url = f"ws://127.0.0.1:{t.ready['port']}{t.ws_path}"
    auth = {"Authorization": f"Bearer {t.ready['api_key']}"}
    async with connect(url, additional_headers=auth, max_size=None, proxy=None) as ws:
        await ws.send(json.dumps(t.ws_subscribe(t.ready["run_id"], r.first_seq - 1)))
        while "ok" not in json.loads(await ws.recv()):
            pass
        ready()
        async for text in ws:
            msg = json.loads(text)
            if "event" in msg:
                r.record(msg["event"], time.time())


async def _sse_subscriber(t: Target, r: Round, ready: Callable[[], None]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", t.ready["port"])
    path = t.sse_path(t.ready["run_id"], r.first_seq - 1)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {t.ready['api_key']}\r\n\r\n".encode()
    )
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        if " 200 " not in head.split("\r\n", 1)[0]:
            raise RuntimeError(f"SSE answered {head.splitlines()[0]}")
        chunked = "transfer-encoding: chunked" in head.lower()
        ready()
        buffer = b""
        while True:
            if chunked:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    return
                buffer += (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return
                buffer += data
            *frames, buffer = buffer.split(b"\n\n")
            now = time.time()
            for frame in frames:
                for line in frame.split(b"\n"):
                    if line.startswith(b"data:"):
                        r.record(json.loads(line[5:]), now)
    finally:
        writer.close()


async def _one_round(t: Target, r: Round, k: int, interval_s: float) -> None:
    subscribed = 0
    all_in = asyncio.Event()

    def ready() -> None:
        nonlocal subscribed
        subscribed += 1
        if subscribed == r.subscribers:
            all_in.set()

    async def guarded(coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception as exc:  # one subscriber's failure is a figure, not a crash
            r.errors.append(repr(exc)[:200])

    one = _ws_subscriber if r.transport == "ws" else _sse_subscriber
    jobs = []
    for _ in range(r.subscribers):
        jobs.append(asyncio.create_task(guarded(one(t, r, ready))))
        await asyncio.sleep(0)  # let each connect start before the next
    try:
        await asyncio.wait_for(all_in.wait(), 120)
        go = {"events": r.events, "interval_s": interval_s}
        (t.directory / f"go-{k}.json").write_text(json.dumps(go))
        done = t.directory / f"done-{k}"
        while not done.exists():
            await asyncio.sleep(0.02)
        # A backlog may still be draining: wait while deliveries keep coming.
        seen, quiet_since = -1, time.monotonic()
        while r.delivered() < r.subscribers * r.events:
            if r.delivered() != seen:
                seen, quiet_since = r.delivered(), time.monotonic()
            elif time.monotonic() - quiet_since > QUIET_S:
                break
            await asyncio.sleep(0.02)
    finally:
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)


def run_rounds(t: Target, params: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Every (transport, subscriber count) round in turn; figures and notes."""
    subscribers = [int(n) for n in params.get("subscribers", [100, 1000])]
    events = int(params.get("events", 200))
    interval_s = float(params.get("interval_s", 0.01))
    t.load()
    seq = int(t.ready["seq"]) + 1
    metrics: dict[str, float] = {}
    notes = [
        f"{events} events per round, one every {1000 * interval_s:g} ms; latency = "
        "publish → the last subscriber to get the event; lost = n × events − deliveries "
        f"made before {QUIET_S:g} s passed with none"
    ]
    k = 0
    for transport in params.get("transports", ["ws", "sse"]):
        for n in subscribers:
            r = Round(transport, n, events, seq)
            asyncio.run(_one_round(t, r, k, interval_s))
            metrics |= r.metrics()
            if r.errors:
                notes.append(f"{transport} {n}: {len(r.errors)} subscribers failed: {r.errors[0]}")
            seq += events
            k += 1
    return metrics, notes
