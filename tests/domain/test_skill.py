"""Skill packs as data, and the grant a role gets from a workspace's installations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from swarmyard.domain.skill import SkillGrant, SkillInstallation, SkillPack, grant_for

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def pack(
    pack_id: str,
    version: str = "1.0.0",
    *,
    tools: list[str] | None = None,
    roles: list[str] | None = None,
) -> SkillPack:
    return SkillPack(
        id=pack_id,
        name=pack_id.replace("-", " ").title(),
        version=version,
        instructions=f"  Use {pack_id} {version} wisely.\n",
        tools=tools or [],
        roles=roles or [],
    )


def inst(
    pack_id: str,
    *,
    version: str | None = None,
    roles: list[str] | None = None,
    enabled: bool = True,
) -> SkillInstallation:
    return SkillInstallation(
        "ws", pack_id, T0, T0, "user:u", version=version, roles=roles, enabled=enabled
    )


def errors(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as err:
        SkillPack.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in err.value.errors()}


GOOD = {"id": "deploy", "name": "Deploy", "version": "1.0.0", "instructions": "Ship it."}


def test_a_pack_validates_its_tools_roles_and_instructions() -> None:
    assert SkillPack.model_validate(GOOD | {"tools": ["git.*", "mcp.time.*", "fs.read"]})
    found = errors(
        GOOD
        | {
            "id": "Deploy!",
            "version": "1.0",
            "instructions": "   \n",
            "tools": ["git.*", "bad tool"],
            "roles": ["developer", "Dev"],
            "colour": "red",
        }
    )
    assert set(found) == {"id", "version", "instructions", "tools", "roles", "colour"}
    assert "'bad tool' is not a tool name or pattern" in found["tools"]
    assert "'Dev' is not a role" in found["roles"]
    assert "blank" in found["instructions"]
    assert "MAJOR.MINOR.PATCH" in found["version"]


@pytest.mark.parametrize("pattern", ["*", "?x", "", ".git", "a" * 129])
def test_a_tool_pattern_starts_with_a_name(pattern: str) -> None:
    assert "tools" in errors(GOOD | {"tools": [pattern]})


def test_tools_and_roles_are_each_given_once() -> None:
    found = errors(GOOD | {"tools": ["fs.read", "fs.read"], "roles": ["tester", "tester"]})
    assert found["tools"] == "Value error, tools repeat: fs.read"
    assert found["roles"] == "Value error, roles repeat: tester"


def test_too_long_instructions_are_refused() -> None:
    assert "instructions" in errors(GOOD | {"instructions": "x" * 20001})
    assert SkillPack.model_validate(GOOD | {"instructions": "x" * 20000})


def test_the_grant_follows_the_latest_version_or_the_pin() -> None:
    packs = [pack("deploy", "1.9.0", tools=["old.*"]), pack("deploy", "1.10.0", tools=["new.*"])]
    latest = grant_for("devops", [inst("deploy")], packs)
    assert latest.packs == ("deploy@1.10.0",)
    assert latest.tools == ("new.*",)
    assert latest.instructions == "## Skill: Deploy (1.10.0)\n\nUse deploy 1.10.0 wisely."
    pinned = grant_for("devops", [inst("deploy", version="1.9.0")], packs)
    assert (pinned.packs, pinned.tools) == (("deploy@1.9.0",), ("old.*",))


def test_the_grant_keeps_the_packs_of_the_role_in_a_stable_order() -> None:
    packs = [
        pack("web-research", tools=["http.fetch", "memory.save"]),
        pack("git-workflow", tools=["git.status", "git.commit"], roles=["developer"]),
        pack("memory", tools=["memory.save", "memory.search"]),
        pack("testing", tools=["sandbox.run"], roles=["tester"]),
    ]
    installed = [inst("web-research"), inst("testing"), inst("memory"), inst("git-workflow")]
    grant = grant_for("developer", installed, packs)
    assert grant.packs == ("git-workflow@1.0.0", "memory@1.0.0", "web-research@1.0.0")
    assert grant.tools == ("git.status", "git.commit", "memory.save", "memory.search", "http.fetch")
    sections = grant.instructions.split("\n\n## ")
    assert [s.splitlines()[0].removeprefix("## ") for s in sections] == [
        "Skill: Git Workflow (1.0.0)",
        "Skill: Memory (1.0.0)",
        "Skill: Web Research (1.0.0)",
    ]
    assert grant_for("developer", list(reversed(installed)), list(reversed(packs))) == grant
    assert grant_for("tester", installed, packs).packs == (
        "memory@1.0.0",
        "testing@1.0.0",
        "web-research@1.0.0",
    )


def test_an_installation_may_name_its_own_roles() -> None:
    packs = [pack("testing", tools=["sandbox.run"], roles=["tester"])]
    assert grant_for("developer", [inst("testing", roles=["developer"])], packs).packs
    assert not grant_for("tester", [inst("testing", roles=["developer"])], packs).packs
    # An empty override means every role, like a pack that names none.
    assert grant_for("marketer", [inst("testing", roles=[])], packs).packs == ("testing@1.0.0",)


def test_disabled_and_missing_packs_give_nothing() -> None:
    packs = [pack("deploy", tools=["deploy.*"])]
    installed = [
        inst("deploy", enabled=False),
        inst("gone"),
        inst("deploy-old", version="0.1.0"),
    ]
    grant = grant_for("devops", installed, packs)
    assert grant == SkillGrant(missing=("deploy-old@0.1.0", "gone"))
    assert grant.instructions == ""
    assert grant_for("devops", [], packs) == SkillGrant()


def test_the_grant_says_which_tools_it_offers() -> None:
    grant = grant_for("devops", [inst("k8s")], [pack("k8s", tools=["mcp.k8s.*", "fs.read"])])
    assert grant.offers("mcp.k8s.apply")
    assert grant.offers("fs.read")
    assert not grant.offers("fs.write")
    assert not grant.offers("mcp.k8sx.apply")
