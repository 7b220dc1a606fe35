"""``swarmyard skill`` against a real server (the embedded platform under
uvicorn on a loopback port): list, show, publish a TOML file, install
latest or pinned, upgrade, disable, uninstall; bad input is a message with
a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_spending import Invoke, cli, live, ok  # noqa: F401 (fixtures)
from typer.testing import Result

PACK = '''id = "deploy"
name = "Deploy"
version = "{version}"
description = "Ship to the cluster."
tools = ["mcp.k8s.*"]
roles = ["devops"]
instructions = """
Roll out one service at a time.
"""
'''


def failed(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.stderr


def write(tmp_path: Path, version: str, name: str = "deploy.toml") -> str:
    path = tmp_path / name
    path.write_text(PACK.format(version=version), encoding="utf-8")
    return str(path)


def rows(text: str, first: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.split()[:1] == [first]]


def test_publish_install_upgrade_uninstall(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    listed = ok(cli("skill", "list"))
    for pack in ("git-workflow", "repo-navigation", "sandboxed-testing", "web-research"):
        assert rows(listed, pack), listed

    out = ok(cli("skill", "publish", write(tmp_path, "1.0.0")))
    assert out.strip() == "published skill pack deploy 1.0.0"
    ok(cli("skill", "publish", write(tmp_path, "1.1.0")))
    [row] = rows(ok(cli("skill", "list")), "deploy")
    assert row[:2] == ["deploy", "1.1.0"]

    shown = ok(cli("skill", "show", "deploy"))
    assert "Roll out one service at a time." in shown
    assert "1.0.0, 1.1.0" in shown
    assert "version:      1.0.0" in ok(cli("skill", "show", "deploy@1.0.0"))

    out = ok(cli("skill", "install", "deploy@1.0.0", "--role", "devops", "--role", "tester"))
    assert out.strip() == "installed skill pack deploy (pinned to 1.0.0)"
    [row] = rows(ok(cli("skill", "installed")), "deploy")
    assert row[:3] == ["deploy", "1.0.0", "yes"]
    assert "devops, tester" in " ".join(row)

    assert ok(cli("skill", "upgrade", "deploy")).strip() == (
        "upgraded skill pack deploy (latest, now 1.1.0)"
    )
    assert ok(cli("skill", "disable", "deploy")).strip().startswith("disabled skill pack deploy")
    as_json = json.loads(ok(cli("--json", "skill", "installed")))
    [item] = as_json["items"]
    assert (item["version"], item["resolved_version"], item["enabled"]) == (None, "1.1.0", False)
    ok(cli("skill", "enable", "deploy"))
    assert ok(cli("skill", "uninstall", "deploy")).strip() == "uninstalled skill pack deploy"
    assert "no skill packs installed" in ok(cli("skill", "installed"))


def test_mistakes_are_messages_with_a_non_zero_exit(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    ok(cli("skill", "publish", write(tmp_path, "1.0.0")))
    assert "higher version" in failed(cli("skill", "publish", write(tmp_path, "1.0.0")))
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "Bad"\nname = "x"\nversion = "1"\ntools = ["*"]\n', encoding="utf-8")
    err = failed(cli("skill", "publish", str(bad)))
    for field in ("id", "version", "tools", "instructions"):
        assert field in err
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x', encoding="utf-8")
    assert "not valid TOML" in failed(cli("skill", "publish", str(broken)), 2)
    assert "ID or ID@VERSION" in failed(cli("skill", "install", "deploy@"), 2)
    assert "not found" in failed(cli("skill", "install", "nope"))
    assert "deploy@9.0.0" in failed(cli("skill", "install", "deploy@9.0.0"))
    assert "MAJOR.MINOR.PATCH" in failed(cli("skill", "install", "deploy@latest"))
    ok(cli("skill", "install", "deploy"))
    assert "already installed" in failed(cli("skill", "install", "deploy"))
    assert "not found" in failed(cli("skill", "uninstall", "web-research"))
    assert "not found" in failed(cli("skill", "show", "nope"))
