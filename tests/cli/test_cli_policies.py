"""``policy`` and ``approval`` against a real server: a policy set from a
file holds a tool call back, ``approval approve`` lets the run go on, and
bad input is a message with a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_spending import Invoke, Live, cli, live, ok  # noqa: F401 (fixtures)

from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import TaskStatus
from swarmyard.testing import wait_for_task


def test_policy_set_list_show_delete(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    file = tmp_path / "careful.toml"
    file.write_text(
        'name = "careful"\nscope = "role"\nscope_id = "developer"\n'
        'denied_tools = ["git.push"]\nmax_steps = 12\n[features]\negress = false\n'
    )
    assert "policy careful is set (role developer)" in ok(cli("policy", "set", str(file)))
    listed = ok(cli("policy", "list"))
    assert "careful" in listed
    assert "role developer" in listed
    assert "steps 12" in listed
    assert "off: egress" in listed
    shown = json.loads(ok(cli("--json", "policy", "show", "careful")))
    assert shown["denied_tools"] == ["git.push"]
    assert "careful is removed" in ok(cli("policy", "delete", "careful"))
    assert "no policies" in ok(cli("policy", "list"))


def test_policy_errors_name_the_problem(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "max_steps": 0, "features": {"teleport": False}}))
    result = cli("policy", "set", str(bad))
    assert result.exit_code != 0
    assert "max_steps" in result.output
    assert "features.teleport" in result.output
    assert "Traceback" not in result.output
    nameless = tmp_path / "nameless.json"
    nameless.write_text("{}")
    result = cli("policy", "set", str(nameless))
    assert result.exit_code != 0
    assert "names no policy" in result.output
    missing = cli("policy", "show", "nope")
    assert missing.exit_code != 0
    assert "nope" in missing.output


def test_a_held_back_call_is_approved_from_the_cli(cli: Invoke, live: Live, tmp_path: Path) -> None:  # noqa: F811
    # The project manager's model checks the board (list_tasks) before it plans.
    assert live.http("POST", "/agents", json={"manifest": "project-manager"}).status_code == 201
    policy = {"name": "ask-first", "approval_tools": ["list_tasks"]}
    assert live.http("POST", "/policies", json=policy).status_code == 201
    task = live.http("POST", "/tasks", json={"title": "Plan it", "type": "planning"}).json()
    live.run(
        wait_for_task(live.container, WS, task["id"], lambda t: bool(t.waiting_reason), timeout=30)
    )
    listed = ok(cli("approval", "list", "--status", "pending"))
    assert "list_tasks" in listed
    (pending,) = json.loads(ok(cli("--json", "approval", "list")))["items"]
    out = ok(cli("approval", "approve", pending["id"], "--comment", "go on"))
    assert f"approved list_tasks for run {pending['run_id']}" in out
    done = live.run(
        wait_for_task(live.container, WS, task["id"], lambda t: t.status is TaskStatus.DONE)
    )
    assert done.status is TaskStatus.DONE
    again = cli("approval", "reject", pending["id"])
    assert again.exit_code != 0
    assert "already approved" in again.output
    bad = cli("approval", "list", "--status", "maybe")
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output
