"""A server killed with SIGKILL mid-run finishes that run exactly once after restart."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def first_run_of(server: Any, task_id: str) -> str:
    """Follow the task's stream until its first run reports an event."""
    with server.stream(f"/tasks/{task_id}/stream", timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and '"run_id"' in line:
                return str(json.loads(line[6:])["run_id"])
    raise AssertionError("the task stream ended without a run")


def wait_for_step(server: Any, run_id: str, min_tool_results: int) -> None:
    """Follow the run's SSE stream until enough tool results are stored."""
    seen = 0
    with server.stream(f"/runs/{run_id}/stream", timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("event: tool_result"):
                seen += 1
                if seen >= min_tool_results:
                    return
    raise AssertionError("the run ended before it reached the step to kill it in")


def test_sigkill_mid_run_resumes_once_without_duplicated_events(server_factory: Any) -> None:
    # A slow offline model keeps the run busy between steps; a short lease lets
    # the restarted server take it over quickly.
    server = server_factory(SWARMYARD_OFFLINE_DELAY_MS="400", SWARMYARD_LEASE_SECONDS="2")
    server.start()
    server.cli("agent", "install", "developer")
    task = server.api(
        "POST", "/tasks", json={"title": "Fix the flaky export", "type": "bugfix"}
    ).json()
    run_id = first_run_of(server, task["id"])
    wait_for_step(server, run_id, min_tool_results=1)
    server.kill()

    server.start()
    with server.stream(f"/tasks/{task['id']}/stream", timeout=90) as r:
        for line in r.iter_lines():
            if line.startswith("event: end"):
                break

    final = server.api("GET", f"/tasks/{task['id']}").json()
    assert final["status"] == "done"
    run = server.api("GET", f"/runs/{run_id}").json()
    assert run["status"] == "succeeded"
    assert run["attempt"] == 2
    assert [r["id"] for r in server.api("GET", f"/tasks/{task['id']}/runs").json()["items"]] == [
        run_id
    ]

    events = server.api("GET", f"/runs/{run_id}/events").json()["items"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = Counter(e["type"] for e in events)
    assert kinds["started"] == 1
    assert kinds["completed"] == 1
    assert [e["payload"].get("resumed") for e in events if e["type"] == "progress"] == [True]
    steps = [e["payload"]["step"] for e in events if e["type"] == "step"]
    assert steps == list(range(1, len(steps) + 1)), "a step was recorded twice"
    calls = Counter(e["payload"]["call_id"] for e in events if e["type"] == "tool_call")
    results = Counter(e["payload"]["call_id"] for e in events if e["type"] == "tool_result")
    assert set(calls.values()) == {1}
    assert calls == results

    agent = server.api("GET", "/agents").json()["items"][0]
    assert agent["tasks_succeeded"] == 1
    assert agent["running"] == 0


def test_sigterm_hands_runs_back_so_a_restart_resumes_at_once(server_factory: Any) -> None:
    # The lease is far longer than the test may take: only a hand-back lets
    # the restarted server resume the run before the test's timeout.
    server = server_factory(
        SWARMYARD_OFFLINE_DELAY_MS="1500",
        SWARMYARD_LEASE_SECONDS="300",
        SWARMYARD_SHUTDOWN_GRACE_SECONDS="0.2",
    )
    server.start()
    server.cli("agent", "install", "developer")
    task = server.api(
        "POST", "/tasks", json={"title": "Tidy the importer", "type": "refactor"}
    ).json()
    run_id = first_run_of(server, task["id"])
    wait_for_step(server, run_id, min_tool_results=1)
    server.stop()  # SIGTERM: graceful
    server.start()
    with server.stream(f"/tasks/{task['id']}/stream", timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("event: end"):
                break
    run = server.api("GET", f"/runs/{run_id}").json()
    assert run["status"] == "succeeded"
    assert run["attempt"] == 2
    events = server.api("GET", f"/runs/{run_id}/events").json()["items"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
