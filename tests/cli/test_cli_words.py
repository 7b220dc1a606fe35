"""The wording of errors and events: what a person reads."""

from __future__ import annotations

from typing import Any

import pytest

from swarmyard.cli.errors import ApiError, describe_details
from swarmyard.cli.events import summarize


@pytest.mark.parametrize(
    ("details", "lines"),
    [
        (None, []),
        (
            [{"path": "a.b", "reason": "bad"}, {"path": "", "reason": "whole"}],
            ["a.b: bad", "whole"],
        ),
        ([{"path": ["caps", 0, "id"], "reason": "missing"}], ["caps.0.id: missing"]),
        (
            {"missing": [{"agent": "helper", "min_version": None}, {"role": "architect"}]},
            ["missing: agent helper", "missing: role architect"],
        ),
        (
            {"dependants": [{"id": "a1", "name": "rev"}, "qa-1"]},
            ["dependant: rev (a1)", "dependant: qa-1"],
        ),
        ({"runs": ["r1", "r2"], "limit": 3}, ["runs: r1, r2", "limit: 3"]),
        ("plain words", ["plain words"]),
    ],
)
def test_details_become_one_line_each(details: Any, lines: list[str]) -> None:
    assert describe_details(details) == lines


def test_details_that_restate_the_message_are_not_repeated() -> None:
    error = ApiError(404, "not_found", "agent 'x' not found", {"kind": "agent", "id": "x"})
    assert error.lines() == ["error: agent 'x' not found"]


def test_a_message_that_inlines_its_problems_is_cut_before_them() -> None:
    error = ApiError(
        422,
        "validation_failed",
        "invalid task: title: required; type: unknown",
        [{"path": "title", "reason": "required"}, {"path": "type", "reason": "unknown"}],
    )
    assert error.lines() == ["error: invalid task", "  title: required", "  type: unknown"]


def event(kind: str, **payload: Any) -> dict[str, Any]:
    return {"run_id": "r", "task_id": "t", "seq": 1, "type": kind, "payload": payload}


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (
            event("started", agent="dev-1", assignment={"reason": "highest score 0.9"}),
            "started by dev-1: highest score 0.9",
        ),
        (
            event(
                "llm_call",
                model="gpt",
                offline=False,
                tokens_in=5,
                tokens_out=7,
                cost_usd=0.00123,
                duration_ms=1530,
            ),
            "llm_call gpt tokens 5->7 $0.0012 1530ms",
        ),
        (
            event("tool_result", tool="shell", content={"exit": 1}, ok=False),
            'tool_result shell failed: {"exit": 1}',
        ),
        (event("error", message="budget exceeded"), "error budget exceeded"),
        (event("step", step=3), "step 3"),
        (event("stopped"), "stopped"),
        (event("approval_requested", tool="deploy"), 'approval_requested {"tool": "deploy"}'),
        (event("message", text="line one\nline two"), 'message {"text": "line one\\nline two"}'),
    ],
)
def test_events_read_as_one_line(raw: dict[str, Any], line: str) -> None:
    assert summarize(raw) == line


def test_long_events_are_clipped() -> None:
    line = summarize(event("completed", output="word " * 100))
    assert len(line) == 160
    assert line.endswith("...")
