"""What each command sends and what it shows, against the fake server."""

from __future__ import annotations

import json
import sys
import types
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from swarmyard.cli import agents

if TYPE_CHECKING:
    from conftest import FakeApi, Invoke


# ------------------------------------------------------------------ headers


def test_every_mutation_sends_a_fresh_uuid4_idempotency_key(fake: FakeApi, cli: Invoke) -> None:
    assert cli("project", "create", "alpha").exit_code == 0
    assert cli("project", "create", "beta").exit_code == 0
    assert cli("project", "list").exit_code == 0
    posts = fake.sent("POST", "/api/v1/projects")
    keys = [p.headers["idempotency-key"] for p in posts]
    assert len(keys) == 2
    assert keys[0] != keys[1]
    assert all(uuid.UUID(k).version == 4 for k in keys)
    assert "idempotency-key" not in fake.sent("GET", "/api/v1/projects")[0].headers


def test_workspace_header_from_option_env_and_default(fake: FakeApi, cli: Invoke) -> None:
    cli("--workspace", "acme", "project", "list")
    cli("project", "list", env={"SWARMYARD_WORKSPACE": "globex"})
    cli("project", "list")
    sent = [r.headers["x-swarmyard-workspace"] for r in fake.sent("GET", "/api/v1/projects")]
    assert sent == ["acme", "globex", "default"]


def test_url_can_come_from_the_environment(fake: FakeApi, cli: Invoke) -> None:
    result = cli("status", url=None, env={"SWARMYARD_URL": fake.url})
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n")[1].split() == ["status:", "ok"]


# ------------------------------------------------------------------ catalogue


def test_catalog_add_sends_the_toml_as_json(fake: FakeApi, cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "helper.toml"
    path.write_text(
        'id = "helper"\nname = "Helper"\nversion = "0.1.0"\nrole = "helper"\n'
        "released = 2025-01-02\n"
        '[[capabilities]]\nid = "help"\ncomplexity = "low"\ntask_types = ["docs"]\n'
    )
    result = cli("catalog", "add", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "added helper 0.1.0 to the catalogue"
    (sent,) = fake.sent("POST", "/api/v1/catalog")
    assert sent.body["released"] == "2025-01-02"
    assert sent.body["capabilities"] == [
        {"id": "help", "complexity": "low", "task_types": ["docs"]}
    ]


def test_catalog_show_asks_for_a_version(fake: FakeApi, cli: Invoke) -> None:
    result = cli("catalog", "show", "reviewer", "--version", "1.0.0")
    assert result.exit_code == 0, result.output
    assert fake.sent("GET", "/api/v1/catalog/reviewer")[0].query == {"version": "1.0.0"}
    assert "You are the code-reviewer." in result.stdout
    assert "developer" in result.stdout  # its dependency


# ------------------------------------------------------------------ agents


def test_install_sends_only_the_given_fields(fake: FakeApi, cli: Invoke) -> None:
    result = cli("agent", "install", "developer", "--replicas", "3", "--name", "dev-a")
    assert result.exit_code == 0, result.output
    assert fake.sent("POST", "/api/v1/agents")[0].body == {
        "manifest": "developer",
        "replicas": 3,
        "name": "dev-a",
    }
    assert result.stdout.startswith("installed dev-a (agt-1) from developer 1.0.0, 3 replica(s)")


def test_agents_are_found_by_name(fake: FakeApi, cli: Invoke) -> None:
    agent = fake.add_agent("dev-1")
    result = cli("agent", "scale", "dev-1", "4")
    assert result.exit_code == 0, result.output
    (patch,) = fake.sent("PATCH", f"/api/v1/agents/{agent['id']}")
    assert patch.body == {"replicas": 4}
    assert result.stdout.strip() == "scaled dev-1 to 4 replica(s)"


def test_agents_are_found_by_id_with_one_request(fake: FakeApi, cli: Invoke) -> None:
    agent = fake.add_agent("dev-1")
    assert cli("agent", "pause", agent["id"]).exit_code == 0
    assert fake.sent("GET", "/api/v1/agents") == []
    assert fake.sent("PATCH", f"/api/v1/agents/{agent['id']}")[0].body == {"status": "inactive"}
    assert cli("agent", "resume", agent["id"]).exit_code == 0
    assert fake.agents[agent["id"]]["status"] == "active"


def test_unknown_and_shared_names_are_errors(fake: FakeApi, cli: Invoke) -> None:
    result = cli("agent", "show", "ghost")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no agent has the id or name 'ghost'"
    a, b = fake.add_agent("twin"), fake.add_agent("twin")
    result = cli("agent", "show", "twin")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: 2 agents are named 'twin'; give one of their ids: {a['id']}, {b['id']}"
    )


def test_uninstall_without_a_terminal_needs_yes(fake: FakeApi, cli: Invoke) -> None:
    agent = fake.add_agent("dev-1")
    result = cli("agent", "uninstall", "dev-1")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert fake.mutations() == []
    result = cli("agent", "uninstall", "dev-1", "--yes")
    assert result.exit_code == 0, result.output
    assert fake.sent("DELETE", f"/api/v1/agents/{agent['id']}")[0].query == {"force": "false"}
    assert agent["id"] not in fake.agents


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_uninstall_on_a_terminal_asks_first(
    fake: FakeApi, cli: Invoke, monkeypatch: pytest.MonkeyPatch, answer: str, deleted: bool
) -> None:
    monkeypatch.setattr(agents, "stdin_is_terminal", lambda: True)
    agent = fake.add_agent("dev-1")
    result = cli("agent", "uninstall", "dev-1", input=answer)
    assert f"Uninstall dev-1 ({agent['id']})? [y/N]" in result.stdout
    assert bool(fake.sent("DELETE", f"/api/v1/agents/{agent['id']}")) is deleted
    assert result.exit_code == (0 if deleted else 1)


def test_uninstall_refused_for_dependants_until_forced(fake: FakeApi, cli: Invoke) -> None:
    dev = fake.add_agent("dev-1", "developer")
    fake.add_agent("rev-1", "code-reviewer", manifest_id="reviewer")
    result = cli("agent", "uninstall", "dev-1", "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: rev-1 depend(s) on dev-1; uninstall them first or force it",
        "  pass --force to uninstall it anyway",
    ]
    result = cli("agent", "uninstall", "dev-1", "--yes", "--force")
    assert result.exit_code == 0, result.output
    assert dev["id"] not in fake.agents


# ------------------------------------------------------------------ tasks


def test_task_create_sends_every_option(fake: FakeApi, cli: Invoke) -> None:
    project = cli("--json", "project", "create", "web", "--workdir", "/srv/web")
    project_id = json.loads(project.stdout)["id"]
    result = cli(
        "task",
        "create",
        "Add login",
        "--type",
        "feature",
        "--description",
        "OAuth",
        "--priority",
        "high",
        "--complexity",
        "critical",
        "--role",
        "developer",
        "--capability",
        "python",
        "--capability",
        "oauth",
        "--depends-on",
        "tsk-9",
        "--project",
        "web",
        "--backlog",
        "--review",
        "--max-attempts",
        "3",
    )
    assert result.exit_code == 0, result.output
    assert fake.sent("POST", "/api/v1/tasks")[0].body == {
        "title": "Add login",
        "type": "feature",
        "description": "OAuth",
        "priority": "high",
        "complexity": "critical",
        "required_role": "developer",
        "required_capabilities": ["python", "oauth"],
        "depends_on": ["tsk-9"],
        "project_id": project_id,
        "status": "backlog",
        "review_required": True,
        "max_attempts": 3,
    }
    assert result.stdout.strip().startswith("created task tsk-")


def test_task_create_minimal_body(fake: FakeApi, cli: Invoke) -> None:
    assert cli("task", "create", "Fix it", "--type", "bugfix").exit_code == 0
    assert fake.sent("POST", "/api/v1/tasks")[0].body == {"title": "Fix it", "type": "bugfix"}


def test_task_list_passes_filters(fake: FakeApi, cli: Invoke) -> None:
    fake.add_task("Alpha", status="todo", required_role="developer")
    fake.add_task("Beta", status="done")
    result = cli(
        "task",
        "list",
        "--status",
        "todo",
        "--status",
        "review",
        "--role",
        "developer",
        "--type",
        "feature",
        "--query",
        "alp",
        "--limit",
        "5",
    )
    assert result.exit_code == 0, result.output
    assert fake.sent("GET", "/api/v1/tasks")[0].query == {
        "status": "todo,review",
        "role": "developer",
        "type": "feature",
        "q": "alp",
        "limit": "5",
    }
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 1
    assert "Alpha" in rows[0]


def test_task_list_says_where_the_next_page_starts(fake: FakeApi, cli: Invoke) -> None:
    for n in range(3):
        fake.add_task(f"T{n}")
    result = cli("task", "list", "--limit", "2")
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr.strip() == "more tasks: add --cursor 2"


def test_task_show_includes_subtasks_and_runs(fake: FakeApi, cli: Invoke) -> None:
    root = fake.add_task("Root", waiting_reason="no tester installed", result=None)
    fake.add_task("Child", parent_id=root["id"], status="done")
    run = fake.add_run(root["id"], "developer", status="failed")
    result = cli("task", "show", root["id"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "waiting:" in out
    assert "no tester installed" in out
    assert "subtasks" in out
    assert "Child" in out
    assert "runs" in out
    assert run["id"] in out
    body = json.loads(cli("--json", "task", "show", root["id"]).stdout)
    assert [t["title"] for t in body["subtasks"]] == ["Child"]
    assert [r["id"] for r in body["runs"]] == [run["id"]]


def test_task_cancel(fake: FakeApi, cli: Invoke) -> None:
    task = fake.add_task("Doomed")
    result = cli("task", "cancel", task["id"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "cancelled Doomed (cancelled)"
    assert len(fake.sent("DELETE", f"/api/v1/tasks/{task['id']}")) == 1


# ------------------------------------------------------------------ runs


def seeded_run(fake: FakeApi, status: str = "running") -> dict[str, Any]:
    task = fake.add_task("Work", required_role="developer")
    run = fake.add_run(task["id"], "developer", status=status)
    fake.add_event(run["id"], "started")
    fake.add_event(run["id"], "tool_call", tool="read_task", args={"id": task["id"]}, call_id="c")
    fake.add_event(run["id"], "tool_result", tool="read_task", call_id="c", content="ok", ok=True)
    fake.add_event(run["id"], "completed", output="done it")
    return run


def test_run_events_pages_through_history(fake: FakeApi, cli: Invoke) -> None:
    run = seeded_run(fake)
    result = cli("run", "events", run["id"], "--after", "1")
    assert result.exit_code == 0, result.output
    types_ = [line.split()[3] for line in result.stdout.splitlines()[1:]]
    assert types_ == ["tool_call", "tool_result", "completed"]
    assert len(fake.sent("GET", f"/api/v1/runs/{run['id']}/events")) == 2  # pages of two


def test_run_events_follow_resumes_after_a_dropped_stream(fake: FakeApi, cli: Invoke) -> None:
    run = seeded_run(fake)
    path = f"/api/v1/runs/{run['id']}/stream"
    fake.break_first[path] = 2
    result = cli("run", "events", run["id"], "--follow")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "#1 started",
        f'#2 tool_call read_task {{"id": "{run["task_id"]}"}}',
        "#3 tool_result read_task ok: ok",
        "#4 completed done it",
    ]
    streams = fake.sent("GET", path)
    assert [s.headers.get("last-event-id") for s in streams] == [None, "2"]


def test_run_events_follow_json_is_one_event_per_line(fake: FakeApi, cli: Invoke) -> None:
    run = seeded_run(fake)
    result = cli("--json", "run", "events", run["id"], "--follow", "--after", "2")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [3, 4]
    assert fake.sent("GET", f"/api/v1/runs/{run['id']}/stream")[0].headers["last-event-id"] == "2"


def test_following_a_finished_run_prints_history_and_its_outcome(
    fake: FakeApi, cli: Invoke
) -> None:
    run = seeded_run(fake, status="failed")
    result = cli("run", "events", run["id"], "--follow")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 4
    assert fake.sent("GET", f"/api/v1/runs/{run['id']}/stream") == []


def test_run_show_and_stop(fake: FakeApi, cli: Invoke) -> None:
    run = seeded_run(fake)
    shown = cli("run", "show", run["id"])
    assert shown.exit_code == 0, shown.output
    assert any(line.split() == ["status:", "running"] for line in shown.stdout.splitlines())
    stopped = cli("run", "stop", run["id"])
    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout.strip() == f"asked run {run['id']} to stop (now running)"
    assert "idempotency-key" in fake.sent("POST", f"/api/v1/runs/{run['id']}/stop")[0].headers


# ------------------------------------------------------------------ schedules


def test_schedule_create_list_delete(fake: FakeApi, cli: Invoke) -> None:
    result = cli(
        "schedule",
        "create",
        "nightly",
        "--cron",
        "0 2 * * *",
        "--title",
        "Audit",
        "--type",
        "security-audit",
        "--role",
        "security",
        "--missed",
        "once",
        "--timezone",
        "Europe/Paris",
    )
    assert result.exit_code == 0, result.output
    assert fake.sent("POST", "/api/v1/schedules")[0].body == {
        "name": "nightly",
        "cron": "0 2 * * *",
        "timezone": "Europe/Paris",
        "task": {"title": "Audit", "type": "security-audit", "required_role": "security"},
        "missed": "once",
    }
    listed = cli("schedule", "list")
    assert "Audit [security-audit]" in listed.stdout
    deleted = cli("schedule", "delete", "nightly")
    assert deleted.exit_code == 0, deleted.output
    assert fake.schedules == {}


def test_schedule_pause_and_resume(fake: FakeApi, cli: Invoke) -> None:
    made = cli(
        "schedule", "create", "nightly", "--cron", "0 2 * * *", "--title", "T", "--type", "docs"
    )
    assert made.exit_code == 0, made.output
    paused = cli("schedule", "pause", "nightly")
    assert paused.exit_code == 0, paused.output
    assert "paused schedule nightly" in paused.stdout
    (ident,) = fake.schedules
    assert fake.sent("PATCH", f"/api/v1/schedules/{ident}")[0].body == {"enabled": False}
    assert fake.schedules[ident]["enabled"] is False
    resumed = cli("--json", "schedule", "resume", ident)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["enabled"] is True
    unknown = cli("schedule", "pause", "weekly")
    assert unknown.exit_code != 0
    assert "weekly" in unknown.stderr


def test_schedule_with_a_bad_cron_is_refused(fake: FakeApi, cli: Invoke) -> None:
    result = cli("schedule", "create", "x", "--cron", "* *", "--title", "T", "--type", "docs")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1] == "  cron: a cron expression has 5 fields"


# ------------------------------------------------------------------ serve


def test_serve_passes_its_options_as_settings(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[Any] = []
    runtime = types.ModuleType("swarmyard.runtime.server")
    runtime.serve_forever = started.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "swarmyard.runtime.server", runtime)
    for name in ("SWARMYARD_HOST", "SWARMYARD_PORT", "SWARMYARD_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    result = cli("serve", "--host", "0.0.0.0", "--port", "9999", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    (settings,) = started
    assert (settings.host, settings.port, settings.data_dir) == ("0.0.0.0", 9999, tmp_path)


def test_serve_reports_bad_settings(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "swarmyard.runtime.server", types.ModuleType("x"))
    monkeypatch.setenv("SWARMYARD_LEASE_SECONDS", "-1")
    result = cli("serve")
    assert result.exit_code == 2
    assert "lease_seconds" in result.stderr
    assert "Traceback" not in result.output
