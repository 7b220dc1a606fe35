"""`swarmyard api|worker|scheduler`: options become settings, bad ones exit 2."""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from swarmyard.cli.main import app as cli_app

RUNTIME = "swarmyard.runtime.processes"
WRITTEN = (
    "SWARMYARD_HOST",
    "SWARMYARD_PORT",
    "SWARMYARD_DATA_DIR",
    "SWARMYARD_WORKER_ROLES",
    "SWARMYARD_WORKER_CONCURRENCY",
    "SWARMYARD_HEALTH_PORT",
)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The runtime's entry points, replaced by ones that note their settings."""
    calls: dict[str, Any] = {}
    runtime = types.ModuleType(RUNTIME)
    for name in ("run_api", "run_worker", "run_scheduler"):
        setattr(runtime, name, lambda settings, name=name: calls.__setitem__(name, settings))
    monkeypatch.setitem(sys.modules, RUNTIME, runtime)
    monkeypatch.setenv("SWARMYARD_BUS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("SWARMYARD_SECRET_KEY", "shared-by-every-process-of-the-cluster")
    # The commands write these into the environment; later tests must not see them.
    saved = {name: os.environ.pop(name, None) for name in WRITTEN}
    yield calls
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def run(*args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args))


def test_worker_options_become_settings(started: dict[str, Any], tmp_path: Path) -> None:
    result = run(
        "worker", "--roles", "developer, tester", "--concurrency", "7",
        "--health-port", "9101", "--host", "0.0.0.0", "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    settings = started["run_worker"]
    assert settings.worker_role_list == ["developer", "tester"]
    assert (settings.worker_concurrency, settings.health_port) == (7, 9101)
    assert (settings.host, settings.data_dir) == ("0.0.0.0", tmp_path)


def test_api_and_scheduler_options_become_settings(started: dict[str, Any]) -> None:
    assert run("api", "--host", "0.0.0.0", "--port", "9100").exit_code == 0
    assert (started["run_api"].host, started["run_api"].port) == ("0.0.0.0", 9100)
    assert run("scheduler", "--health-port", "9102").exit_code == 0
    assert started["run_scheduler"].health_port == 9102
    assert started["run_scheduler"].worker_role_list == []


def test_a_bad_role_name_is_a_usage_error(started: dict[str, Any]) -> None:
    result = run("worker", "--roles", "developer,Tester")
    assert result.exit_code == 2
    assert "worker_roles" in result.stderr
    assert "'Tester' is not a role name" in result.stderr
    assert "Traceback" not in result.output
    assert started == {}


def test_bad_numbers_are_usage_errors(
    started: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("worker", "--concurrency", "0").exit_code == 2
    assert run("scheduler", "--health-port", "70000").exit_code == 2
    monkeypatch.setenv("SWARMYARD_LEADER_TTL_SECONDS", "0.1")
    result = run("scheduler")
    assert result.exit_code == 2
    assert "leader_ttl_seconds" in result.stderr
    monkeypatch.setenv("SWARMYARD_LEADER_TTL_SECONDS", "15")
    monkeypatch.setenv("SWARMYARD_LOG_FORMAT", "xml")
    result = run("api")
    assert result.exit_code == 2
    assert "log_format" in result.stderr
    assert started == {}


@pytest.mark.parametrize("command", ["api", "worker", "scheduler"])
def test_the_in_process_bus_is_refused_before_the_runtime_loads(
    started: dict[str, Any], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("SWARMYARD_BUS_URL", "memory")
    result = run(command)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: `swarmyard {command}` is one part of a cluster")
    assert "SWARMYARD_BUS_URL=nats://" in result.stderr
    assert started == {}


def test_a_cluster_process_needs_the_shared_secret_key(
    started: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWARMYARD_SECRET_KEY")
    result = run("api")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: `swarmyard api` is one part of a cluster: set ")
    assert "SWARMYARD_SECRET_KEY" in result.stderr
    assert started == {}
