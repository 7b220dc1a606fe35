"""Known roles: a task for a role published through another process is
accepted at once, though each process keeps the roles it has seen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.adapters.store.memory_catalog import MemoryManifestRepo
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import AgentManifest, FakeClock, SequentialIds, ValidationFailed, Workspace
from swarmyard.services.catalog import CatalogService
from swarmyard.services.deps import Deps
from swarmyard.services.tasks import NewTask, TaskService


class ManifestLists:
    """Counts the reads of a workspace's custom manifests."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        listing = MemoryManifestRepo.list

        async def counted(repo: MemoryManifestRepo) -> list[AgentManifest]:
            self.count += 1
            return await listing(repo)

        monkeypatch.setattr(MemoryManifestRepo, "list", counted)


@pytest.fixture
async def two_processes() -> tuple[MemoryStore, Deps, Deps]:
    clock = FakeClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    store = MemoryStore()
    await store.add_workspace(Workspace(WS, "Default", clock.now()))
    first = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    second = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    return store, first, second


async def test_a_role_published_elsewhere_is_known_at_once(
    two_processes: tuple[MemoryStore, Deps, Deps],
) -> None:
    store, here, there = two_processes
    catalog = CatalogService(here)
    tasks = TaskService(here, catalog.known_roles)
    await tasks.create(WS, NewTask(title="a", type="feature", required_role="developer"))

    elsewhere = CatalogService(there)
    async with store.unit_of_work(WS) as uow:
        base = await elsewhere.get(uow, "developer", None)
    await elsewhere.add(
        WS, base.model_copy(update={"id": "writer", "role": "writer", "builtin": False})
    )

    created = await tasks.create(WS, NewTask(title="b", type="feature", required_role="writer"))
    assert created.required_role == "writer"


async def test_a_role_seen_before_needs_no_read_and_an_unknown_one_is_refused(
    two_processes: tuple[MemoryStore, Deps, Deps], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, here, _ = two_processes
    lists = ManifestLists(monkeypatch)
    tasks = TaskService(here, CatalogService(here).known_roles)
    await tasks.create(WS, NewTask(title="first", type="feature", required_role="developer"))
    reads = lists.count
    for n in range(3):
        await tasks.create(
            WS, NewTask(title=f"again {n}", type="feature", required_role="developer")
        )
    await tasks.create(WS, NewTask(title="no role", type="feature"))
    assert lists.count == reads

    with pytest.raises(ValidationFailed, match="unknown role 'nobody'"):
        await tasks.create(WS, NewTask(title="x", type="feature", required_role="nobody"))
    assert lists.count == reads + 1  # an unknown role is always read afresh
