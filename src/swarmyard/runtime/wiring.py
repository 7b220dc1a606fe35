"""Process wiring: build the adapters and services from settings, start and
stop the loops. Embedded and cluster mode differ only in the adapters
chosen here."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from dataclasses import dataclass, field

import structlog

from ..adapters.bus import create_bus
from ..adapters.security import Argon2Hasher, FernetSecretBox, JwtSigner, load_or_create_secret
from ..adapters.store import create_store
from ..adapters.tools import builtin_tools
from ..config import Settings
from ..config_file import PlatformFile, find_platform_file, load_platform_file
from ..domain import (
    DEFAULT_WORKSPACE,
    Clock,
    Conflict,
    IdSource,
    SystemClock,
    UlidIds,
    Workspace,
    subjects,
)
from ..ports import Bus, ModelClientFactory, Store
from ..services.auth import AuthService
from ..services.budgets import BudgetService
from ..services.catalog import CatalogService
from ..services.delegation import Delegator
from ..services.deps import Deps
from ..services.estimates import TaskEstimator
from ..services.identity import IdentityService
from ..services.lifecycle import Lifecycle
from ..services.model_admin import ModelAdmin
from ..services.orchestrator import Orchestrator
from ..services.projects import ProjectService
from ..services.registry import Registry
from ..services.router import ModelRouter
from ..services.rules import WorkspaceRules
from ..services.runs import RunService
from ..services.schedules import ScheduleService
from ..services.tasks import TaskService
from ..services.usage import UsageService
from .agent_loop import AgentLoop
from .credentials import write_credentials
from .delegation_wait import SubtaskWaiter
from .loops import orchestrator_loop, periodic, scheduler_jobs
from .model_wiring import model_layer
from .recovery import Recovery
from .relay import Relay
from .worker import Worker

__all__ = ["Container", "build"]

log = structlog.get_logger("swarmyard")


@dataclass(slots=True)
class Container:
    settings: Settings
    deps: Deps
    relay: Relay
    catalog: CatalogService
    projects: ProjectService
    tasks: TaskService
    runs: RunService
    registry: Registry
    schedules: ScheduleService
    orchestrator: Orchestrator
    lifecycle: Lifecycle
    recovery: Recovery
    worker: Worker
    router: ModelRouter
    models: ModelClientFactory
    budgets: BudgetService
    usage: UsageService
    estimates: TaskEstimator
    model_admin: ModelAdmin
    auth: AuthService
    identity: IdentityService
    rules: WorkspaceRules
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.deps.store

    @property
    def bus(self) -> Bus:
        return self.deps.bus

    async def start(self, *, control_plane: bool = True, workers: bool = True) -> None:
        await self.store.migrate()
        await ensure_default_workspace(self.store, self.deps.clock)
        first_key = await self.identity.bootstrap_owner_key()
        if first_key is not None:
            write_credentials(self.settings, first_key[0], first_key[1])
        self._spawn("relay", self.relay.run())
        await self.relay.sweep(everything=True)
        if workers:
            self._spawn("worker", self.worker.run())
        if control_plane:
            await self.recovery.startup()
            self._spawn(
                "orchestrator",
                orchestrator_loop(
                    self.store,
                    self.bus,
                    self.orchestrator,
                    interval=self.settings.orchestrator_interval,
                ),
            )
            for name, every, job in scheduler_jobs(
                self.store,
                self.schedules,
                self.recovery,
                self.relay,
                self.deps.clock,
                lease_seconds=self.settings.lease_seconds,
            ):
                self._spawn(name, periodic(name, every, job))

    async def announce_revocation(self, workspace_id: str, key_id: str) -> None:
        """Tell every process that a key is gone, so streams opened with it close."""
        await self.bus.publish(subjects.auth_revoked(workspace_id), key_id.encode())

    def _spawn(self, name: str, coro: object) -> None:
        self._background.append(asyncio.create_task(coro, name=name))  # type: ignore[arg-type]

    async def stop(self, grace: float = 10.0) -> None:
        await self.worker.shutdown(grace)
        for t in self._background:
            t.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        await self.relay.drain()
        await self.models.aclose()  # the model clients' connections
        await self.bus.close()
        await self.store.close()


async def ensure_default_workspace(store: Store, clock: Clock) -> None:
    with contextlib.suppress(Conflict):
        await store.add_workspace(Workspace(DEFAULT_WORKSPACE, "Default", clock.now()))


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    models: ModelClientFactory | None = None,
    platform: PlatformFile | None = None,
    store: Store | None = None,
    bus: Bus | None = None,
) -> Container:
    """Build a process from settings. `models` replaces the client factory
    (tests hand in their own clients); `platform` the platform file, read
    from its usual places when not given."""
    clock = clock or SystemClock()
    ids = ids or UlidIds()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = store or create_store(settings.resolved_database_url)
    bus = bus or create_bus(settings.bus_url)
    relay = Relay(store, bus, clock)
    deps = Deps(store=store, bus=bus, clock=clock, ids=ids, outbox=relay)
    catalog = CatalogService(deps)
    tasks = TaskService(deps, catalog.known_roles)
    lifecycle = Lifecycle(deps, catalog, lease_seconds=settings.lease_seconds)
    delegator = Delegator(deps, tasks, lifecycle)
    secret = load_or_create_secret(settings.secret_key, settings.data_dir / "secret.key")
    if platform is None:
        platform = load_platform_file(find_platform_file(settings.data_dir))
    layer = model_layer(settings, platform, deps, FernetSecretBox(secret), factory=models)
    loop = AgentLoop(
        lifecycle,
        delegator,
        SubtaskWaiter(bus, delegator),
        layer.router,
        builtin_tools(store),
        run_max_seconds=settings.run_max_seconds,
    )
    usage = UsageService(deps, layer.router)
    owner = f"{socket.gethostname()}:{os.getpid()}:{ids.new('w')[-6:]}"
    worker = Worker(bus, lifecycle, loop, owner=owner, concurrency=settings.worker_concurrency)
    hasher = Argon2Hasher()
    signer = JwtSigner(secret)
    return Container(
        settings=settings,
        deps=deps,
        relay=relay,
        catalog=catalog,
        projects=ProjectService(deps),
        tasks=tasks,
        runs=RunService(deps),
        registry=Registry(deps, catalog),
        schedules=ScheduleService(deps, tasks),
        orchestrator=Orchestrator(deps, catalog),
        lifecycle=lifecycle,
        recovery=Recovery(deps, lifecycle),
        worker=worker,
        router=layer.router,
        models=layer.factory,
        budgets=BudgetService(deps, on_change=layer.directory.invalidate),
        usage=usage,
        estimates=TaskEstimator(deps, tasks, catalog, usage),
        model_admin=layer.admin,
        auth=AuthService(deps, hasher, signer),
        identity=IdentityService(deps, hasher),
        rules=WorkspaceRules(deps),
    )
