"""The README's first session, with no settings: a feature travels the team."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_feature_with_wait_ends_done_and_every_run_is_readable(server_factory: Any) -> None:
    server = server_factory()
    server.start()
    for role in ("developer", "architect", "code-reviewer", "tester"):
        server.cli("agent", "install", role)

    done = server.cli(
        "task", "create", "Add CSV export to the reports page", "--type", "feature", "--wait"
    )
    assert "delegated" in done.stdout or "delegate" in done.stdout
    tasks = server.cli_json("task", "list", "--limit", "50")
    items = tasks["items"] if isinstance(tasks, dict) else tasks
    by_type = {t["type"]: t for t in items}
    assert set(by_type) == {"feature", "implementation", "review", "test"}
    assert all(t["status"] == "done" for t in items)

    for task in items:
        runs = server.api("GET", f"/tasks/{task['id']}/runs").json()["items"]
        assert [r["status"] for r in runs] == ["succeeded"]
        events = server.api("GET", f"/runs/{runs[0]['id']}/events").json()["items"]
        assert events[0]["type"] == "started"
        assert events[-1]["type"] == "completed"
        shown = server.cli("run", "events", runs[0]["id"])
        assert "completed" in shown.stdout
    board = server.cli("board")
    assert "Add CSV export" in board.stdout
