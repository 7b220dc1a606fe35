"""Two scheduler processes, and a leader paused across a cron tick so that
both believe they lead for a moment: every schedule still fires once for
that tick."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarmyard.testing.cluster import Cluster, ClusterProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SCHEDULES = 3


def test_each_schedule_fires_once_per_tick_with_two_schedulers(
    cluster: Callable[..., Cluster], board: Any
) -> None:
    c = cluster()
    api = c.start_ready("api", "api")
    schedulers = [c.start_ready(f"scheduler-{i}", "scheduler") for i in (1, 2)]
    http = c.http(api)

    def leaders() -> list[ClusterProcess]:
        return [s for s in schedulers if (s.ready() or {}).get("leader")]

    (leader,) = c.until("one leader", leaders)
    standby = next(s for s in schedulers if s is not leader)
    # The tick to watch: the next minute boundary with room to set up before it.
    now = datetime.now(UTC)
    tick = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if tick - now < timedelta(seconds=4):
        tick += timedelta(minutes=1)
    for i in range(SCHEDULES):
        body = {
            "name": f"every minute {i}",
            "cron": "* * * * *",
            "task": {"title": f"Minute report {i}", "type": "docs"},
        }
        r = http.post("/schedules", json=body)
        assert r.status_code == 201, r.text

    def at(moment: datetime) -> bool:
        return datetime.now(UTC) >= moment

    # The leader freezes just before the tick; the standby takes the lease
    # and fires it; then the old leader wakes up still believing it leads,
    # its jobs running until its next renewal fails.
    c.until("just before the tick", lambda: at(tick - timedelta(seconds=1)), timeout=70)
    leader.send(signal.SIGSTOP)
    c.until("the standby to lead", lambda: (standby.ready() or {}).get("leader"))

    def fired() -> list[dict[str, Any]]:
        found = board.query(
            "SELECT origin_key FROM tasks WHERE origin_key LIKE $1", f"%{tick.isoformat()}"
        )
        return found if len(found) >= SCHEDULES else []

    c.until("the tick to fire", fired, timeout=30)
    leader.send(signal.SIGCONT)
    # Once it has stepped down its jobs are cancelled (a tick cut short rolls
    # back), and the standby has moved every schedule past the tick: any
    # second firing would be on the board by now.
    c.until("the old leader to step down", lambda: leaders() == [standby])
    assert leader.logged("leadership lost; stopping the scheduler jobs")

    rows = board.query("SELECT origin_key FROM tasks")
    # Tasks per schedule: the key is "schedule:<id>:<tick time>".
    ticks = Counter(":".join(r["origin_key"].split(":", 2)[:2]) for r in rows)
    at_tick = [r["origin_key"] for r in rows if r["origin_key"].endswith(tick.isoformat())]
    assert len(at_tick) == SCHEDULES, at_tick  # every schedule fired that tick, once
    runs = {f"schedule:{r['id']}": r["runs"] for r in board.query("SELECT id, runs FROM schedules")}
    assert dict(ticks) == runs  # one task per firing counted, none more
