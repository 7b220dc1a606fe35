"""Faults a production cluster sees, injected into real processes on
PostgreSQL and NATS JetStream: load across three workers, workers killed
with SIGKILL at random points, a worker paused past its lease. Every task
must end done, run to completion once, with a history that has no gap and
no repeat."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from swarmyard.testing.cluster import Cluster, ClusterProcess, create_tasks, install_agents

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_three_workers_finish_a_thousand_tasks_each_once(
    cluster: Callable[..., Cluster], board: Any
) -> None:
    c = cluster(
        SWARMYARD_OFFLINE_DELAY_MS="5",
        SWARMYARD_LEASE_SECONDS="30",
    )
    api, workers = c.start_all(workers=3, concurrency=8)
    http = c.http(api)
    install_agents(http, "documenter", agents=8, replicas=3)  # 24 slots: 3 workers x 8

    ids = create_tasks(http, 1000, type_="docs", label="Page")
    c.until("a thousand tasks done", lambda: board.done() == 1000, timeout=600)

    runs = board.assert_each_task_done_once(ids)
    assert {r["attempt"] for r in runs.values()} == {1}  # nothing failed over
    ended = [len(w.logged("run ended")) for w in workers]
    assert sum(ended) == 1000
    assert min(ended) > 0, ended  # every worker took a share
    assert board.count("SELECT count(*) FROM outbox") == 0


def test_workers_killed_at_random_points_resume_runs_from_their_checkpoints(
    cluster: Callable[..., Cluster], board: Any
) -> None:
    c = cluster(
        SWARMYARD_OFFLINE_DELAY_MS="250",
        SWARMYARD_LEASE_SECONDS="2",
    )
    api, workers = c.start_all(workers=3, concurrency=3)
    http = c.http(api)
    install_agents(http, "developer", agents=3, replicas=3)
    ids = create_tasks(http, 120, type_="bugfix", label="Fix")
    rng = random.Random(20261122)

    def victim() -> ClusterProcess | None:
        """A worker driving runs, none of which has already been taken over
        three times (a run that loses its worker five times is failed)."""
        owners = {w.logged("started")[0]["owner"]: w for w in workers if w.alive and w.ready()}
        held: dict[str, list[int]] = {}
        for r in board.runs():
            if r["status"] == "running" and r["lease_owner"] in owners:
                held.setdefault(r["lease_owner"], []).append(r["attempt"])
        candidates = [owners[o] for o, attempts in sorted(held.items()) if max(attempts) <= 3]
        return rng.choice(candidates) if candidates else None

    kills = 0
    while kills < 20 and board.done() < len(ids):
        c.until("a worker with runs in flight", victim)
        # Not a wait for anything: the random point of the runs' steps (model
        # call, tool, write) at which a worker dies.
        time.sleep(rng.uniform(0.0, 0.5))
        # Chosen again just before the kill: in the pause a worker may have
        # taken over a run that has lost its worker three times already.
        w = victim()
        if w is None:
            continue
        w.kill()
        kills += 1
        # A replacement, so that three workers keep going.
        workers.append(c.start(f"worker-r{kills}", "worker", "--concurrency", "3"))
    c.until("every task done", lambda: board.done() == len(ids), timeout=300)

    runs = board.assert_each_task_done_once(ids)
    histories = board.events()
    resumed = [r for r in runs.values() if r["attempt"] > 1]
    assert kills == 20, f"only {kills} kills happened before the work ran out"
    assert len(resumed) >= kills // 2, (kills, len(resumed))
    for run in resumed:
        events = histories[run["id"]]
        # Each resumption starts from the steps the checkpoint holds: exactly
        # the steps recorded before it, none redone after.
        for i, e in enumerate(events):
            if e["type"] == "progress" and e["payload"].get("resumed"):
                before = sum(1 for x in events[:i] if x["type"] == "step")
                assert e["payload"]["from_step"] == before, (run["id"], events)


def test_a_worker_paused_past_its_lease_has_its_late_writes_refused(
    cluster: Callable[..., Cluster], board: Any
) -> None:
    c = cluster(
        SWARMYARD_OFFLINE_DELAY_MS="400",
        SWARMYARD_LEASE_SECONDS="2",
    )
    api = c.start_ready("api", "api")
    c.start_ready("scheduler", "scheduler")
    first = c.start_ready("worker-1", "worker", "--concurrency", "1")
    http = c.http(api)
    install_agents(http, "developer", agents=1, replicas=1)
    (task_id,) = create_tasks(http, 1, type_="bugfix", label="Fix the importer")

    def stepped() -> dict[str, Any] | None:
        found = board.query("SELECT id, attempt, steps FROM runs WHERE status = 'running'")
        return found[0] if found and found[0]["steps"] >= 1 else None

    run = c.until("the run's first step", stepped)
    first.send(signal.SIGSTOP)
    second = c.start_ready("worker-2", "worker", "--concurrency", "1")

    def taken_over() -> bool:
        (r,) = board.query("SELECT attempt FROM runs WHERE id = $1", run["id"])
        return bool(r["attempt"] > run["attempt"])

    c.until("the run to be taken over", taken_over)
    first.send(signal.SIGCONT)
    c.until("the task done", lambda: board.done() == 1)

    c.until("the paused worker's refused write", lambda: _refusals(first, run["id"]))
    assert [e["run_id"] for e in second.logged("run ended")] == [run["id"]]
    assert all(e["run_id"] != run["id"] for e in first.logged("run ended"))
    board.assert_each_task_done_once([task_id])


def _refusals(worker: ClusterProcess, run_id: str) -> list[dict[str, Any]]:
    found = worker.logged("late write refused") + worker.logged("lease lost; dropping run")
    return [e for e in found if e["run_id"] == run_id]
