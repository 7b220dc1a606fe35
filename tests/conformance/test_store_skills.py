"""Conformance of the skill pack repositories: memory, SQLite and PostgreSQL alike.

Custom packs keep every version (an id and version once per workspace),
the latest is the highest by semver, not by text; installations are one per
pack and workspace, come back as written (a pin, a roles override or
neither), change in place, list by pack id and may keep only enabled ones;
another workspace sees none of it, and deleting a workspace takes it all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.domain import Conflict, NotFound, Workspace
from swarmyard.domain.skill import SkillInstallation, SkillPack
from swarmyard.ports import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", T0))
    return store


def pack(pack_id: str, version: str = "1.0.0", *, text: str = "Do it well.") -> SkillPack:
    return SkillPack(
        id=pack_id,
        name=pack_id.title(),
        version=version,
        description="ünïcode description",
        instructions=f"# {pack_id}\n\n{text}",
        tools=["deploy.*", "mcp.k8s.apply"],
        roles=["devops"],
    )


def installed(
    pack_id: str,
    *,
    version: str | None = None,
    roles: list[str] | None = None,
    enabled: bool = True,
    workspace: str = A,
) -> SkillInstallation:
    return SkillInstallation(
        workspace_id=workspace,
        pack_id=pack_id,
        installed_at=T0,
        updated_at=T0,
        installed_by="user:alice",
        version=version,
        roles=roles,
        enabled=enabled,
    )


async def test_packs_keep_every_version_and_the_latest_is_by_semver(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        for version in ("1.9.0", "1.10.0", "1.2.0"):
            await uow.skill_packs.add(pack("deploy", version))
        await uow.skill_packs.add(pack("audit"))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert await uow.skill_packs.get("deploy") == pack("deploy", "1.10.0")
        assert await uow.skill_packs.get("deploy", "1.2.0") == pack("deploy", "1.2.0")
        assert await uow.skill_packs.get("deploy", "3.0.0") is None
        assert await uow.skill_packs.get("nope") is None
        listed = [p.ref for p in await uow.skill_packs.list()]
        assert listed == ["audit@1.0.0", "deploy@1.2.0", "deploy@1.9.0", "deploy@1.10.0"]
        assert [p.ref for p in await uow.skill_packs.list(["audit", "nope"])] == ["audit@1.0.0"]
        assert await uow.skill_packs.list([]) == []


async def test_a_pack_version_is_published_once_per_workspace(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.skill_packs.add(pack("deploy"))
        with pytest.raises(Conflict, match="deploy"):
            await uow.skill_packs.add(pack("deploy", text="Other words."))
        # The refusal wrote nothing and left the unit of work usable.
        await uow.skill_packs.add(pack("deploy", "1.0.1"))
        await uow.commit()
    async with st.unit_of_work(B) as uow:
        assert await uow.skill_packs.list() == []
        assert await uow.skill_packs.get("deploy") is None
        await uow.skill_packs.add(pack("deploy", text="Beta's own."))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert (await uow.skill_packs.get("deploy", "1.0.0")) == pack("deploy")


async def test_installations_round_trip_and_change_in_place(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.skill_installations.add(installed("web-research"))
        await uow.skill_installations.add(installed("deploy", version="1.2.0", roles=[]))
        await uow.skill_installations.add(installed("git-workflow", roles=["developer", "tester"]))
        await uow.skill_installations.add(installed("b-off", enabled=False))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert await uow.skill_installations.get("deploy") == installed(
            "deploy", version="1.2.0", roles=[]
        )
        assert await uow.skill_installations.get("web-research") == installed("web-research")
        names = [i.pack_id for i in await uow.skill_installations.list()]
        assert names == ["b-off", "deploy", "git-workflow", "web-research"]
        enabled = [i.pack_id for i in await uow.skill_installations.list(enabled=True)]
        assert enabled == ["deploy", "git-workflow", "web-research"]
        assert [i.pack_id for i in await uow.skill_installations.list(enabled=False)] == ["b-off"]

        changed = installed("deploy", version=None, roles=["devops"], enabled=False)
        changed.updated_at = T0 + timedelta(hours=1)
        changed.installed_at = T0 + timedelta(days=9)  # birth is not rewritten
        changed.installed_by = "user:mallory"
        await uow.skill_installations.update(changed)
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        got = await uow.skill_installations.get("deploy")
        assert (got.version, got.roles, got.enabled) == (None, ["devops"], False)
        assert got.updated_at == T0 + timedelta(hours=1)
        assert (got.installed_at, got.installed_by) == (T0, "user:alice")


async def test_a_pack_is_installed_once_per_workspace(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.skill_installations.add(installed("deploy"))
        with pytest.raises(Conflict, match="already installed"):
            await uow.skill_installations.add(installed("deploy", version="1.0.0"))
        await uow.skill_installations.add(installed("audit"))
        await uow.commit()
    async with st.unit_of_work(B) as uow:
        await uow.skill_installations.add(installed("deploy", workspace=B, enabled=False))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert (await uow.skill_installations.get("deploy")).enabled


async def test_another_workspace_sees_and_changes_nothing(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.skill_installations.add(installed("deploy"))
        await uow.commit()
    async with st.unit_of_work(B) as uow:
        assert await uow.skill_installations.list() == []
        with pytest.raises(NotFound):
            await uow.skill_installations.get("deploy")
        with pytest.raises(NotFound):
            await uow.skill_installations.update(installed("deploy", workspace=B, enabled=False))
        with pytest.raises(NotFound):
            await uow.skill_installations.delete("deploy")
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert (await uow.skill_installations.get("deploy")).enabled
        await uow.skill_installations.delete("deploy")
        with pytest.raises(NotFound):
            await uow.skill_installations.delete("deploy")
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert await uow.skill_installations.list() == []


async def test_leaving_without_commit_keeps_nothing(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.skill_packs.add(pack("deploy"))
        await uow.skill_installations.add(installed("deploy"))
    async with st.unit_of_work(A) as uow:
        assert await uow.skill_packs.list() == []
        assert await uow.skill_installations.list() == []


async def test_writing_into_a_missing_workspace_is_not_found(st: Store) -> None:
    async with st.unit_of_work("ws-gone") as uow:
        with pytest.raises(NotFound, match="ws-gone"):
            await uow.skill_packs.add(pack("deploy"))


async def test_deleting_the_workspace_takes_its_packs_and_installations(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.skill_packs.add(pack("deploy"))
        await uow.skill_installations.add(installed("deploy"))
        await uow.commit()
    async with st.unit_of_work(B) as uow:
        await uow.skill_installations.add(installed("web-research", workspace=B))
        await uow.commit()
    await st.delete_workspace(A)
    await st.add_workspace(Workspace(A, "Alpha again", T0))
    async with st.unit_of_work(A) as uow:
        assert await uow.skill_packs.list() == []
        assert await uow.skill_installations.list() == []
    async with st.unit_of_work(B) as uow:
        assert [i.pack_id for i in await uow.skill_installations.list()] == ["web-research"]
