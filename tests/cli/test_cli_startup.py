"""The command must start fast and never drag the server stack in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import swarmyard
from swarmyard.cli import vocab
from swarmyard.domain import Complexity, Priority, TaskStatus
from swarmyard.domain.identity import Role
from swarmyard.domain.schedule import MissedTicks

SRC = str(Path(swarmyard.__file__).resolve().parents[1])
HEAVY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "pydantic_ai",
    "openai",
    "uvicorn",
    "llama_cpp",
    # Not forbidden by the architecture, but loaded only when a command needs them.
    "httpx",
    "rich",
    "pydantic",
)


def _python(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for name in ("SWARMYARD_URL", "SWARMYARD_API_KEY", "SWARMYARD_DATA_DIR"):
        env.pop(name, None)
    if data_dir is not None:
        env["SWARMYARD_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_importing_the_cli_loads_no_server_stack() -> None:
    done = _python(
        "-c", "import sys, json, swarmyard.cli.main; print(json.dumps(sorted(sys.modules)))"
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    heavy = sorted({m for m in loaded if m.split(".")[0] in HEAVY})
    assert heavy == []


def test_help_runs_and_lists_every_group() -> None:
    done = _python("-m", "swarmyard.cli", "--help")
    assert done.returncode == 0, done.stderr
    groups = ("serve", "catalog", "agent", "project", "task", "run", "board", "schedule")
    identity = ("login", "logout", "whoami", "user", "apikey", "audit", "workspace")
    for group in groups + identity:
        assert group in done.stdout


def test_entry_point_function_runs() -> None:
    done = _python(
        "-c",
        "import sys; sys.argv = ['swarmyard', '--version']; "
        "from swarmyard.cli.main import run; run()",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"swarmyard {swarmyard.__version__}"


def test_no_server_is_one_line_and_exit_3_in_a_real_process(tmp_path: Path) -> None:
    done = _python(
        "-m", "swarmyard.cli", "--url", "http://127.0.0.1:9", "task", "list", data_dir=tmp_path
    )
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "no Swarmyard server answers at http://127.0.0.1:9 — start one with `swarmyard serve`"
    )


def test_vocabulary_matches_the_domain() -> None:
    assert set(get_args(vocab.TaskStatusName)) == {s.value for s in TaskStatus}
    assert set(get_args(vocab.PriorityName)) == {p.value for p in Priority}
    assert set(get_args(vocab.ComplexityName)) == {c.value for c in Complexity}
    assert set(get_args(vocab.MissedPolicy)) == {m.value for m in MissedTicks}
    assert list(get_args(vocab.RoleName)) == [r.value for r in Role]
    assert set(vocab.BOARD_MAIN) | set(vocab.BOARD_OTHER) == {s.value for s in TaskStatus}
