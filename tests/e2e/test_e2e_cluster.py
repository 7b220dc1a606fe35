"""A cluster of real processes on PostgreSQL and NATS JetStream: one API, two
workers, two schedulers. Tasks get done once each while the leading
scheduler is killed (the standby takes over) and a worker is stopped mid-run
(its runs are handed back and finished by the other)."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from swarmyard.testing.cluster import Cluster, ClusterProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TASKS = 30


def test_api_two_workers_and_two_schedulers_finish_every_task_once(
    cluster: Callable[..., Cluster],
) -> None:
    c = cluster(SWARMYARD_OFFLINE_DELAY_MS="300")
    api = c.start_ready("api", "api")
    workers = [c.start_ready(f"worker-{i}", "worker", "--concurrency", "3") for i in (1, 2)]
    schedulers = [c.start_ready(f"scheduler-{i}", "scheduler") for i in (1, 2)]

    def leaders() -> list[ClusterProcess]:
        return [s for s in schedulers if s.alive and (s.ready() or {}).get("leader")]

    leader, *others = c.until("a leader", leaders)
    assert others == []
    http = c.http(api)
    for name in ("scribe", "writer"):  # six slots: more than one worker's three
        r = http.post("/agents", json={"manifest": "documenter", "name": name, "replicas": 3})
        assert r.status_code == 201, r.text
    ids = [
        http.post("/tasks", json={"title": f"Write page {i}", "type": "docs"}).json()["id"]
        for i in range(TASKS)
    ]

    def done() -> int:
        items = http.get("/tasks", params={"status": "done", "limit": 100}).json()["items"]
        return len(items)

    c.until("a third of the tasks", lambda: done() >= TASKS // 3)
    leader.signal(signal.SIGKILL)
    standby = next(s for s in schedulers if s is not leader)
    c.until("the standby to lead", lambda: (standby.ready() or {}).get("leader"))

    # A full worker: with no grace, some of its three runs are surely unfinished.
    busy = c.until(
        "a worker with every slot busy",
        lambda: next((w for w in workers if (w.ready() or {}).get("active_runs") == 3), None),
    )
    assert busy.signal(signal.SIGTERM) == 0  # graceful: hands its runs back
    c.until("every task", lambda: done() == TASKS)

    for task_id in ids:
        runs = http.get(f"/tasks/{task_id}/runs").json()["items"]
        assert [r["status"] for r in runs] == ["succeeded"], (task_id, runs)
        events = http.get(f"/runs/{runs[0]['id']}/events").json()["items"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert [e["type"] for e in events].count("completed") == 1

    assert all(w.logged("run ended") for w in workers), "both workers ran runs"
    assert busy.logged("run released"), "the stopped worker handed runs back"

    for p in (standby, *(w for w in workers if w is not busy)):
        assert p.signal(signal.SIGTERM) == 0, p.log()
