"""The CLI against a real server: custom manifests from files, clear errors, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CUSTOM = """
id = "release-notes"
name = "Release notes writer"
version = "1.0.0"
role = "release-notes"
system_prompt = "You write release notes from merged changes."
max_concurrent_tasks = 2

[[capabilities]]
id = "release-notes"
name = "Release notes"
complexity = "medium"
task_types = ["docs"]

[[dependencies]]
role = "documenter"
optional = true
"""

BROKEN = """
id = "Bad Id"
name = "Broken"
version = "1.0"
role = "broken"
system_prompt = ""

[[capabilities]]
id = "x"
name = "X"
complexity = "extreme"
"""


def test_custom_manifest_file_and_errors(server_factory: Any, tmp_path: Path) -> None:
    server = server_factory()
    server.start()
    good = tmp_path / "release-notes.toml"
    good.write_text(CUSTOM)
    server.cli("catalog", "add", str(good))
    installed = server.cli_json("agent", "install", "release-notes")
    assert installed["role"] == "release-notes"

    bad = tmp_path / "broken.toml"
    bad.write_text(BROKEN)
    refused = server.cli("catalog", "add", str(bad), check=False)
    assert refused.returncode == 1
    for path in ("id", "version", "system_prompt", "capabilities.0.complexity"):
        assert f"{path}:" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr

    task = server.cli_json("task", "create", "Notes", "--type", "docs", "--backlog")
    moved = server.cli("task", "move", task["id"], "done", check=False)
    assert moved.returncode == 1
    assert "'backlog'" in moved.stderr
    assert "'done'" in moved.stderr

    unknown = server.cli("task", "create", "X", "--type", "docs", "--role", "wizard", check=False)
    assert unknown.returncode == 1
    assert "wizard" in unknown.stderr

    missing = server.cli("run", "show", "run_nope", check=False)
    assert missing.returncode == 1
    assert "not found" in missing.stderr

    dependants = server.cli("agent", "install", "code-reviewer", check=False)
    assert dependants.returncode == 1
    assert "developer" in dependants.stderr

    catalog = server.cli_json("catalog", "list")
    items = catalog["items"] if isinstance(catalog, dict) else catalog
    assert {m["id"] for m in items} >= {"release-notes", "architect"}
    assert len(items) == 14
