"""Run events are published after commit with no outbox row: a stream that
misses a publication reads it from the stored events, so a client still
sees every event once and in order."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.api.routes import streams
from swarmyard.domain import EventType, Principal, Role, RunEvent, RunStatus, subjects

WS, RUN = "ws1", "run_1"
T0 = datetime(2026, 12, 1, tzinfo=UTC)


class StoredRun:
    """The run's stored events and status, as `RunService` answers them."""

    def __init__(self) -> None:
        self.stored: list[RunEvent] = []
        self.status = RunStatus.RUNNING

    def add(self, seq: int, type_: EventType = EventType.STEP) -> RunEvent:
        ev = RunEvent(RUN, WS, seq, type_, T0, {"step": seq}, task_id="task_1")
        self.stored.append(ev)
        return ev

    async def events(
        self, ws: str, run_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[RunEvent]:
        assert (ws, run_id) == (WS, RUN)
        return [e for e in self.stored if e.seq > after][:limit]

    async def get(self, ws: str, run_id: str) -> Any:
        return type("RunView", (), {"status": self.status})()


class Platform:
    def __init__(self, runs: StoredRun) -> None:
        self.runs = runs


def frames(chunks: list[bytes]) -> list[tuple[str, int]]:
    out = []
    for chunk in chunks:
        text = chunk.decode()
        if text.startswith(":"):
            continue
        fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
        out.append((fields["event"], json.loads(fields["data"])["seq"]))
    return out


async def test_a_missed_publication_is_read_from_the_stored_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "KEEPALIVE_SECONDS", 0.05)
    bus = MemoryBus()
    runs = StoredRun()
    runs.add(1, EventType.STARTED)
    principal = Principal("api_key", "key_1", WS, Role.VIEWER)
    sub = await bus.subscribe(subjects.workspace_all(WS))
    stream = streams._run_events(Platform(runs), principal, RUN, 0, sub)  # type: ignore[arg-type]
    got = [await anext(stream)]
    # Steps 2 and 3 are committed; only the publication of 3 arrives.
    runs.add(2)
    third = runs.add(3)
    await bus.publish(subjects.run_events(WS, RUN), json.dumps(third.as_dict()).encode())
    got += [await anext(stream), await anext(stream)]
    # The last event's publication is lost altogether: the quiet period finds it.
    runs.add(4, EventType.COMPLETED)
    runs.status = RunStatus.SUCCEEDED
    async with asyncio.timeout(5):
        got += [chunk async for chunk in stream]
    assert frames(got) == [("started", 1), ("step", 2), ("step", 3), ("completed", 4)]
    await bus.close()


async def test_a_live_event_already_replayed_is_not_sent_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "KEEPALIVE_SECONDS", 5.0)
    bus = MemoryBus()
    runs = StoredRun()
    runs.add(1, EventType.STARTED)
    second = runs.add(2)
    principal = Principal("api_key", "key_1", WS, Role.VIEWER)
    sub = await bus.subscribe(subjects.workspace_all(WS))
    stream = streams._run_events(Platform(runs), principal, RUN, 0, sub)  # type: ignore[arg-type]
    got = [await anext(stream), await anext(stream)]
    await bus.publish(subjects.run_events(WS, RUN), json.dumps(second.as_dict()).encode())
    done = runs.add(3, EventType.COMPLETED)
    await bus.publish(subjects.run_events(WS, RUN), json.dumps(done.as_dict()).encode())
    async with asyncio.timeout(5):
        got += [chunk async for chunk in stream]
    assert frames(got) == [("started", 1), ("step", 2), ("completed", 3)]
    await bus.close()
