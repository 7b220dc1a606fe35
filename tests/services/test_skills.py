"""The skill pack service on the in-memory store: the catalogue, publishing
(new id or higher version, built-in ids refused), installing, pinning,
disabling and uninstalling, and the grant the agent loop asks for at the
start of a run (one unit of work, however many packs are installed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import (
    Conflict,
    FakeClock,
    NotFound,
    SequentialIds,
    ValidationFailed,
    Workspace,
)
from swarmyard.domain.skill import SkillGrant, SkillPack
from swarmyard.ports import UnitOfWork
from swarmyard.services.deps import Deps
from swarmyard.services.skills import SkillService, installation_view

WS, OTHER = "ws-a", "ws-b"
T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def pack(pack_id: str = "deploy", version: str = "1.0.0", **extra: Any) -> SkillPack:
    data: dict[str, Any] = {
        "id": pack_id,
        "name": pack_id.title(),
        "version": version,
        "instructions": f"Deploy carefully ({version}).",
        "tools": ["deploy.*"],
        "roles": ["devops"],
    }
    return SkillPack.model_validate(data | extra)


class CountingStore(MemoryStore):
    """Counts units of work and the queries of the skill repositories."""

    def __init__(self) -> None:
        super().__init__()
        self.units = 0
        self.calls: list[str] = []

    @asynccontextmanager
    async def unit_of_work(self, workspace_id: str) -> AsyncIterator[Any]:
        self.units += 1
        async with super().unit_of_work(workspace_id) as uow:
            yield _Spy(uow, self.calls)


class _Spy:
    def __init__(self, uow: UnitOfWork, calls: list[str]) -> None:
        self._uow = uow
        self.skill_packs = _Recorder(uow.skill_packs, "packs", calls)
        self.skill_installations = _Recorder(uow.skill_installations, "installations", calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


class _Recorder:
    def __init__(self, repo: Any, name: str, calls: list[str]) -> None:
        self._repo, self._name, self._calls = repo, name, calls

    def __getattr__(self, method: str) -> Any:
        inner = getattr(self._repo, method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._name}.{method}")
            return await inner(*args, **kwargs)

        return call


@pytest.fixture
async def env() -> tuple[SkillService, CountingStore, FakeClock]:
    clock = FakeClock(T0)
    store = CountingStore()
    await store.add_workspace(Workspace(WS, "A", T0))
    await store.add_workspace(Workspace(OTHER, "B", T0))
    deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    return SkillService(deps), store, clock


async def test_the_catalogue_is_the_built_ins_then_the_workspace_s_own(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    skills, _, _ = env
    shipped = [p.ref for p in await skills.catalogue(WS)]
    assert shipped == [
        "git-workflow@1.0.0",
        "repo-navigation@1.0.0",
        "sandboxed-testing@1.0.0",
        "web-research@1.0.0",
    ]
    await skills.publish(WS, pack("deploy", "1.0.0"))
    await skills.publish(WS, pack("deploy", "1.10.0"))
    await skills.publish(WS, pack("audit"))
    assert [p.ref for p in await skills.catalogue(WS)][4:] == [
        "audit@1.0.0",
        "deploy@1.0.0",
        "deploy@1.10.0",
    ]
    assert [p.version for p in await skills.versions(WS, "deploy")] == ["1.0.0", "1.10.0"]
    assert (await skills.get(WS, "deploy")).version == "1.10.0"
    assert (await skills.get(WS, "git-workflow", "1.0.0")).builtin
    # Another workspace sees the built-ins only.
    assert len(await skills.catalogue(OTHER)) == 4
    with pytest.raises(NotFound, match="'deploy'"):
        await skills.versions(OTHER, "deploy")
    with pytest.raises(NotFound, match=r"deploy@2.0.0"):
        await skills.get(WS, "deploy", "2.0.0")
    with pytest.raises(NotFound, match=r"git-workflow@9.9.9"):
        await skills.get(WS, "git-workflow", "9.9.9")


async def test_publishing_needs_a_new_id_or_a_higher_version(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    skills, _, _ = env
    await skills.publish(WS, pack("deploy", "1.2.0"))
    for version in ("1.2.0", "1.1.9"):
        with pytest.raises(Conflict, match="publish a higher version") as err:
            await skills.publish(WS, pack("deploy", version))
        assert err.value.details == {"id": "deploy", "version": version, "latest": "1.2.0"}
    await skills.publish(WS, pack("deploy", "1.10.0"))
    # The same id in another workspace is that workspace's own pack.
    await skills.publish(OTHER, pack("deploy", "0.1.0"))


async def test_built_in_ids_and_the_built_in_flag_are_refused(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    skills, _, _ = env
    with pytest.raises(ValidationFailed) as err:
        await skills.publish(WS, pack("git-workflow", "2.0.0", builtin=True))
    assert [p.path for p in err.value.problems] == ["id", "builtin"]
    assert "built-in skill pack" in err.value.problems[0].reason
    assert [p.id for p in await skills.catalogue(WS)].count("git-workflow") == 1


async def test_install_pin_disable_and_uninstall(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    skills, _, clock = env
    await skills.publish(WS, pack("deploy", "1.0.0"))
    installed, resolved = await skills.install(WS, "deploy", by="user:alice")
    assert (installed.version, installed.roles, installed.enabled) == (None, None, True)
    assert resolved is not None
    assert resolved.version == "1.0.0"
    with pytest.raises(Conflict, match="already installed"):
        await skills.install(WS, "deploy", version="1.0.0", by="user:alice")

    # Following the latest: a new version is in effect at once.
    await skills.publish(WS, pack("deploy", "1.1.0"))
    [(_, now)] = await skills.installations(WS)
    assert now is not None
    assert now.version == "1.1.0"

    clock.advance(timedelta(minutes=5))
    pinned, at = await skills.update(WS, "deploy", version="1.0.0", roles=["devops", "tester"])
    assert (pinned.version, pinned.roles, at and at.version) == (
        "1.0.0",
        ["devops", "tester"],
        "1.0.0",
    )
    assert pinned.updated_at == T0 + timedelta(minutes=5)
    assert pinned.installed_at == T0
    view = installation_view(pinned, at)
    assert view["applies_to"] == ["devops", "tester"]
    assert view["resolved_version"] == "1.0.0"

    with pytest.raises(NotFound, match=r"deploy@3.0.0"):
        await skills.update(WS, "deploy", version="3.0.0")
    # The refused change changed nothing.
    assert (await skills.installation(WS, "deploy"))[0].version == "1.0.0"

    off, _ = await skills.update(WS, "deploy", enabled=False)
    assert (off.enabled, off.version, off.roles) == (False, "1.0.0", ["devops", "tester"])
    latest, at = await skills.update(WS, "deploy", version=None, roles=None, enabled=True)
    assert (latest.version, latest.roles, at and at.version) == (None, None, "1.1.0")

    await skills.uninstall(WS, "deploy")
    assert await skills.installations(WS) == []
    with pytest.raises(NotFound, match="skill installation"):
        await skills.uninstall(WS, "deploy")
    with pytest.raises(NotFound, match="skill installation"):
        await skills.update(WS, "deploy", enabled=True)


async def test_installing_a_missing_pack_or_version_is_not_found(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    skills, _, _ = env
    with pytest.raises(NotFound, match="'nope'"):
        await skills.install(WS, "nope", by="user:alice")
    with pytest.raises(NotFound, match=r"web-research@2.0.0"):
        await skills.install(WS, "web-research", version="2.0.0", by="user:alice")
    await skills.publish(OTHER, pack("deploy"))
    with pytest.raises(NotFound, match="'deploy'"):
        await skills.install(WS, "deploy", by="user:alice")
    assert await skills.installations(WS) == []


async def test_the_grant_of_a_role(env: tuple[SkillService, CountingStore, FakeClock]) -> None:
    skills, _, _ = env
    assert await skills.grant(WS, "developer") == SkillGrant()
    await skills.publish(WS, pack("deploy", "1.0.0"))
    await skills.publish(WS, pack("deploy", "2.0.0", tools=["deploy.*", "mcp.k8s.*"]))
    await skills.install(WS, "deploy", by="user:alice")
    await skills.install(WS, "git-workflow", by="user:alice")
    await skills.install(WS, "web-research", by="user:alice")
    await skills.install(WS, "repo-navigation", enabled=False, by="user:alice")

    devops = await skills.grant(WS, "devops")
    assert devops.packs == ("deploy@2.0.0", "git-workflow@1.0.0", "web-research@1.0.0")
    assert devops.tools[:2] == ("deploy.*", "mcp.k8s.*")
    assert "## Skill: Deploy (2.0.0)\n\nDeploy carefully (2.0.0)." in devops.instructions
    assert devops.offers("mcp.k8s.apply")
    assert not devops.offers("fs.read")  # repo-navigation is disabled

    developer = await skills.grant(WS, "developer")
    assert developer.packs == ("git-workflow@1.0.0",)
    assert developer.tools == ("git.status", "git.diff", "git.commit")

    await skills.update(WS, "deploy", version="1.0.0", roles=[])
    assert (await skills.grant(WS, "developer")).packs == ("deploy@1.0.0", "git-workflow@1.0.0")
    # Nothing leaks into another workspace.
    assert await skills.grant(OTHER, "devops") == SkillGrant()


async def test_the_grant_is_one_unit_of_work_with_two_queries(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    skills, store, _ = env
    for i in range(12):
        await skills.publish(WS, pack(f"pack-{i:02}"))
        await skills.install(WS, f"pack-{i:02}", by="user:alice")
    for built_in in ("git-workflow", "sandboxed-testing"):
        await skills.install(WS, built_in, by="user:alice")
    store.units, store.calls = 0, []
    grant = await skills.grant(WS, "devops")
    assert len(grant.packs) == 14
    assert store.units == 1
    assert store.calls == ["installations.list", "packs.list"]

    # Built-in packs alone need no query of the custom ones.
    await skills.publish(OTHER, pack("unused"))
    await skills.install(OTHER, "git-workflow", by="user:alice")
    store.units, store.calls = 0, []
    assert (await skills.grant(OTHER, "devops")).packs == ("git-workflow@1.0.0",)
    assert (store.units, store.calls) == (1, ["installations.list"])


async def test_a_pin_on_a_version_no_longer_shipped_is_reported_not_fatal(
    env: tuple[SkillService, CountingStore, FakeClock],
) -> None:
    """A later release may ship a built-in pack without the version a
    workspace pinned: its runs go on without the pack, and say so."""
    skills, store, clock = env
    await skills.install(WS, "git-workflow", version="1.0.0", by="user:alice")
    newer = SkillService(
        Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds()),
        builtin=[pack("git-workflow", "2.0.0", builtin=True)],
    )
    grant = await newer.grant(WS, "devops")
    assert (grant.packs, grant.missing) == ((), ("git-workflow@1.0.0",))
    [(installation, resolved)] = await newer.installations(WS)
    assert resolved is None
    assert installation_view(installation, resolved)["resolved_version"] is None
