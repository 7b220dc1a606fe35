"""Failures read as one clear message, with the right exit code, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import FakeApi, Invoke


def no_traceback(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text


def test_validation_problems_are_listed_one_per_line(
    fake: FakeApi, cli: Invoke, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "helper"\n\n[[capabilities]]\nid = "x"\ncomplexity = "huge"\n')
    result = cli("catalog", "add", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        # the server's message inlines the problems; they are shown once, below
        "error: invalid manifest",
        "  name: field required",
        "  version: field required",
        "  role: field required",
        "  capabilities.0.complexity: not a known complexity",
    ]


def test_a_conflict_prints_the_server_message_and_exits_1(fake: FakeApi, cli: Invoke) -> None:
    task = fake.add_task("Ship", status="done")
    result = cli("task", "move", task["id"], "todo")
    assert result.exit_code == 1
    # The details only restate the message, so they are not repeated.
    assert result.stderr.splitlines() == [
        "error: task cannot move from 'done' to 'todo' (allowed from 'done': none)"
    ]
    assert no_traceback(result.output)


def test_missing_dependencies_are_named(fake: FakeApi, cli: Invoke) -> None:
    result = cli("agent", "install", "lead")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: lead needs architect >= 1.2.0 installed first",
        "  missing: role architect >= 1.2.0",
        "  install them, then run this again",
    ]


def test_not_found_is_exit_1(fake: FakeApi, cli: Invoke) -> None:
    result = cli("task", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: task 'nope' not found"


def test_no_server_answers_is_exit_3(cli: Invoke) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("agent", "list", url=f"http://127.0.0.1:{port}")
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        f"no Swarmyard server answers at http://127.0.0.1:{port} — start one with `swarmyard serve`"
    )


def test_usage_errors_are_typers_exit_2(cli: Invoke) -> None:
    result = cli("task", "move", "t1", "sideways")
    assert result.exit_code == 2
    assert "sideways" in result.output
    assert no_traceback(result.output)


def test_a_bad_url_is_a_usage_error(cli: Invoke) -> None:
    result = cli("agent", "list", url="127.0.0.1:8420")
    assert result.exit_code == 2
    assert "http://" in result.output


@pytest.mark.parametrize(
    "case",
    [
        ("m.toml", "id = ", "is not valid TOML"),
        ("m.json", "{", "is not valid JSON"),
        ("m.yaml", "id: x", "is neither .toml nor .json"),
        ("m.json", "[1]", "must hold one object"),
    ],
)
def test_a_manifest_file_that_cannot_be_read_is_a_usage_error(
    fake: FakeApi, cli: Invoke, tmp_path: Path, case: tuple[str, str, str]
) -> None:
    name, content, message = case
    path = tmp_path / name
    path.write_text(content)
    result = cli("catalog", "add", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert fake.mutations() == []


def test_an_unexpected_failure_is_one_line_too(
    fake: FakeApi, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from swarmyard.cli import projects

    def explode(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(projects, "session", explode)
    result = cli("project", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: unexpected KeyError: 'boom'"
    assert no_traceback(result.output)
