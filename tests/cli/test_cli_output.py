"""Tables on a terminal, plain aligned text in a pipe, the server's JSON with --json."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import FakeApi, Invoke

ESC = "\x1b["
BOX = set("─━│┃┌┏╭╰┼╇")
TERMINAL = {"TTY_COMPATIBLE": "1", "FORCE_COLOR": "1"}


def seed(fake: FakeApi) -> None:
    fake.add_agent("dev-1", "developer", status="active")
    fake.add_agent("qa-1", "tester", status="inactive", tasks_succeeded=7)


def test_piped_output_is_plain_aligned_text(fake: FakeApi, cli: Invoke) -> None:
    seed(fake)
    result = cli("agent", "list")
    assert result.exit_code == 0, result.output
    assert ESC not in result.stdout
    assert not BOX & set(result.stdout)
    header, first, second = result.stdout.splitlines()
    assert header.split() == [
        "NAME",
        "ID",
        "ROLE",
        "VERSION",
        "STATUS",
        "HEALTH",
        "RUNNING",
        "DONE/FAILED",
        "COST",
    ]
    assert first.split()[:5] == ["dev-1", "agt-1", "developer", "1.0.0", "active"]
    assert second.split()[:5] == ["qa-1", "agt-2", "tester", "1.0.0", "inactive"]
    # columns line up: every value of a column starts where its header does
    assert first.index("developer") == header.index("ROLE") == second.index("tester")
    assert second.split()[7] == "7/1"


def test_terminal_output_is_a_rich_table_with_colour(fake: FakeApi, cli: Invoke) -> None:
    seed(fake)
    result = cli("agent", "list", env=TERMINAL)
    assert result.exit_code == 0, result.output
    assert ESC in result.stdout
    assert BOX & set(result.stdout)
    assert "dev-1" in result.stdout
    assert "qa-1" in result.stdout


def test_json_prints_the_body(fake: FakeApi, cli: Invoke) -> None:
    seed(fake)
    result = cli("--json", "agent", "list", env=TERMINAL)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [a["name"] for a in body["items"]] == ["dev-1", "qa-1"]
    assert body["items"][0] == fake.agents["agt-1"]


def test_lists_follow_every_page(fake: FakeApi, cli: Invoke) -> None:
    result = cli("catalog", "list")  # the fake pages its catalogue two at a time
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert ids == ["developer", "tester", "reviewer", "lead"]
    assert len(fake.sent("GET", "/api/v1/catalog")) == 2


def test_show_prints_fields_one_per_line(fake: FakeApi, cli: Invoke) -> None:
    agent = fake.add_agent("dev-1")
    result = cli("agent", "show", agent["id"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "name:" in lines[2]
    assert lines[2].split() == ["name:", "dev-1"]
    assert any(line.split() == ["cost:", "$0.0123"] for line in lines)
    assert ESC not in result.stdout


def test_board_plain_has_five_columns_side_by_side_and_the_rest_below(
    fake: FakeApi, cli: Invoke
) -> None:
    dev = fake.add_agent("dev-1")
    fake.add_task("Plan", status="backlog", priority="low")
    fake.add_task(
        "Build",
        status="in_progress",
        required_role="developer",
        assignee_agent_id=dev["id"],
        priority="high",
    )
    fake.add_task("Ship", status="done")
    fake.add_task("Flaky", status="failed", required_role="tester")
    result = cli("board")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "BACKLOG",
        "(1)",
        "TODO",
        "(0)",
        "IN_PROGRESS",
        "(1)",
        "REVIEW",
        "(0)",
        "DONE",
        "(1)",
    ]
    row = lines[1]
    assert row.index("Plan (any, low)") == 0
    assert row.index("Build (developer/dev-1, high)") == lines[0].index("IN_PROGRESS")
    assert row.index("Ship (any, normal)") == lines[0].index("DONE")
    assert lines[2:] == [
        "blocked (0)",
        "failed (1)",
        "  Flaky (tester, normal)",
        "cancelled (0)",
    ]


def test_board_on_a_terminal_is_a_table(fake: FakeApi, cli: Invoke) -> None:
    fake.add_task("Build", status="todo")
    result = cli("board", env=TERMINAL)
    assert result.exit_code == 0, result.output
    assert "todo (1)" in result.stdout
    assert "Build (any, normal)" in result.stdout
    assert BOX & set(result.stdout)


def test_empty_lists_say_so(fake: FakeApi, cli: Invoke) -> None:
    result = cli("schedule", "list")
    assert result.exit_code == 0
    assert result.stdout.strip() == "no schedules"
