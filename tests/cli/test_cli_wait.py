"""``task create --wait``: following a task tree's stream to its end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import swarmyard

if TYPE_CHECKING:
    from conftest import FakeApi, Invoke


def test_wait_prints_one_line_per_event_and_exits_0_when_done(fake: FakeApi, cli: Invoke) -> None:
    result = cli("task", "create", "Build login", "--type", "feature", "--wait")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == [
        "[task] created 'Build login' (tsk-1): todo",
        "[task] 'Build login': todo -> in_progress",
        "[developer] started",
        "[developer] llm_call offline (offline) tokens 120->30 $0.0000 4.0ms: plan: delegate tests",
        '[developer] tool_call read_task {"id": "tsk-1"}',
        "[developer] tool_result read_task ok: ok",
        "[developer] delegated -> tester: Write tests (tsk-4)",
        "[task] new subtask 'Write tests' for tester: todo",
        "[task] 'Write tests': todo -> in_progress",
        "[tester] started",
        "[tester] completed tests written",
        "[task] 'Write tests': in_progress -> done",
        "[developer] completed feature built",
        "[task] 'Build login': in_progress -> done",
        "task tsk-1 done, cost $0.0042",
        "feature built",
    ]


def test_wait_exits_1_when_the_task_fails(fake: FakeApi, cli: Invoke) -> None:
    result = cli("task", "create", "Doomed to fail", "--type", "feature", "--wait")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert "[developer] error the model gave up" in lines
    assert lines[-2:] == ["task tsk-1 failed, cost $0.0000", "attempts exhausted"]


def test_wait_reconnects_when_the_stream_drops(fake: FakeApi, cli: Invoke) -> None:
    fake.break_first["/api/v1/tasks/tsk-1/stream"] = 4
    result = cli("task", "create", "Build login", "--type", "feature", "--wait")
    assert result.exit_code == 0, result.output
    assert fake.connections["/api/v1/tasks/tsk-1/stream"] == 2
    lines = result.stdout.splitlines()
    # The second connection replays the tree; nothing is shown twice.
    assert len(lines) == len(set(lines)) == 16
    assert lines[-2] == "task tsk-1 done, cost $0.0042"


def test_wait_says_why_a_task_waits(fake: FakeApi, cli: Invoke) -> None:
    result = cli("task", "create", "A patient task", "--type", "feature", "--wait")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "[task] 'A patient task' waits: no active agent has the role developer"
    )


def test_wait_refuses_a_backlog_task(fake: FakeApi, cli: Invoke) -> None:
    result = cli("task", "create", "Later", "--type", "feature", "--backlog", "--wait")
    assert result.exit_code == 2
    assert "would wait forever" in result.stderr
    assert fake.mutations() == []


def test_wait_with_json_prints_the_final_task(fake: FakeApi, cli: Invoke) -> None:
    result = cli("--json", "task", "create", "Build login", "--type", "feature", "--wait")
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout)
    assert (final["id"], final["status"], final["result"]) == ("tsk-1", "done", "feature built")


def test_wait_on_a_terminal_draws_the_tree_live(fake: FakeApi, cli: Invoke) -> None:
    result = cli(
        "task",
        "create",
        "Build login",
        "--type",
        "feature",
        "--wait",
        env={"TTY_COMPATIBLE": "1", "FORCE_COLOR": "1"},
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b[" in out  # redrawn in place, in colour
    assert "└ Write tests" in out  # the subtask, under its parent
    assert "delegated -> tester: Write tests" in out  # the event log
    assert "task tsk-1 done" in out


def test_wait_in_a_real_pipe(fake: FakeApi, data_dir: Path) -> None:
    src = str(Path(swarmyard.__file__).resolve().parents[1])
    env = os.environ | {"PYTHONPATH": src, "SWARMYARD_DATA_DIR": str(data_dir)}
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "SWARMYARD_API_KEY"):
        env.pop(name, None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "swarmyard.cli",
            "--url",
            fake.url,
            "task",
            "create",
            "Build it to fail",
            "--type",
            "feature",
            "--wait",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "\x1b[" not in done.stdout
    assert "[tester] completed tests written" in done.stdout.splitlines()
