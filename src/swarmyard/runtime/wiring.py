"""Process wiring: build the adapters and services from settings, start and
stop the loops. Embedded and cluster mode differ only in the adapters
chosen here and in the `Plan` of each process: `swarmyard serve` runs every
part alone; in a cluster `api`, `worker` and `scheduler` processes each run
one part, and the scheduler's control-plane jobs run under a leader lease."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from ..adapters.bus import create_bus
from ..adapters.embeddings import create_embedder
from ..adapters.mcp import SdkMcpConnector
from ..adapters.net import EgressGuard, EgressRules, SafeHttpFetcher
from ..adapters.sandbox import LazySandbox, choose_sandbox
from ..adapters.security import Argon2Hasher, FernetSecretBox, JwtSigner, load_or_create_secret
from ..adapters.store import create_store
from ..adapters.tools import (
    HttpFetchTool,
    RunCommandTool,
    builtin_tools,
    consult_tools,
    file_tools,
    git_tools,
)
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
from ..ports import Bus, Embedder, LeaderLease, McpConnector, ModelClientFactory, Store, Tool
from ..services.approvals import ApprovalService
from ..services.auth import AuthService
from ..services.budgets import BudgetService
from ..services.catalog import CatalogService
from ..services.consultations import ConsultationService
from ..services.delegation import Delegator
from ..services.deps import Deps
from ..services.estimates import TaskEstimator
from ..services.health import HealthMonitor
from ..services.identity import IdentityService
from ..services.lifecycle import Lifecycle
from ..services.mcp_gateway import McpGateway
from ..services.mcp_servers import McpServerService
from ..services.memory import MemoryService
from ..services.memory_index import MemoryIndex
from ..services.model_admin import ModelAdmin
from ..services.orchestrator import Orchestrator
from ..services.policies import PolicyService
from ..services.projects import ProjectService
from ..services.registry import Registry
from ..services.router import ModelRouter
from ..services.rules import WorkspaceRules
from ..services.runs import RunService
from ..services.schedules import ScheduleService
from ..services.skills import SkillService
from ..services.task_graph import TaskGraphService
from ..services.tasks import TaskService
from ..services.usage import UsageService
from .agent_loop import AgentLoop
from .consult_responder import Responder
from .credentials import write_credentials
from .delegation_wait import SubtaskWaiter
from .leadership import Leadership
from .loops import orchestrator_loop, periodic, scheduler_jobs
from .model_wiring import model_layer
from .prompts import consultation_messages
from .recovery import Recovery
from .relay import Relay
from .role_queues import RoleWatch, known_roles
from .worker import Worker

__all__ = ["ALL_IN_ONE", "Container", "Plan", "build"]

log = structlog.get_logger("swarmyard")


@dataclass(frozen=True, slots=True)
class Plan:
    """The parts one process runs."""

    api: bool = True  # serves HTTP; bootstraps the first owner key
    workers: bool = True
    control_plane: bool = True
    # The whole platform is this one process: rows left in the outbox and
    # pending runs at start are leftovers of its own previous life.
    alone: bool = True


ALL_IN_ONE = Plan()


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
    health: HealthMonitor
    model_admin: ModelAdmin
    auth: AuthService
    identity: IdentityService
    rules: WorkspaceRules
    policies: PolicyService
    # Skill packs; the agent loop asks `skills.grant(workspace, role)` at run start.
    skills: SkillService
    approvals: ApprovalService
    memory: MemoryService
    task_graphs: TaskGraphService
    mcp_servers: McpServerService
    # This process's MCP sessions; whoever builds a run's tools asks `mcp.tools_for`.
    mcp: McpGateway
    plan: Plan = ALL_IN_ONE
    # Set in a cluster: the control-plane jobs run only while it leads.
    leader: Leadership | None = None
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.deps.store

    @property
    def bus(self) -> Bus:
        return self.deps.bus

    async def start(
        self, *, control_plane: bool | None = None, workers: bool | None = None
    ) -> None:
        """Start the loops of the plan (`control_plane`/`workers` override it)."""
        control_plane = self.plan.control_plane if control_plane is None else control_plane
        workers = self.plan.workers if workers is None else workers
        await self.store.migrate()
        await ensure_default_workspace(self.store, self.deps.clock)
        if self.plan.api:
            first_key = await self.identity.bootstrap_owner_key()
            if first_key is not None:
                write_credentials(self.settings, first_key[0], first_key[1])
        self._spawn("relay", self.relay.run())
        # Every process holds its own MCP sessions: restart dead ones, check live ones.
        self._spawn("mcp", periodic("mcp", 30.0, self.mcp.sweep))
        if self.plan.alone:
            # In a cluster other processes' rows are in flight: only the
            # leader's sweep, with its grace period, takes leftovers.
            await self.relay.sweep(everything=True)
        if workers:
            self._spawn("worker", self.worker.run())
        if control_plane:
            if self.leader is not None:
                self._spawn("leadership", self.leader.run())
            else:
                if self.plan.alone:
                    await self.recovery.startup()
                for name, job in self.control_jobs():
                    self._spawn(name, job)

    def control_jobs(self) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        """The orchestrator and the scheduler jobs, as named coroutines."""
        jobs = [
            (
                "orchestrator",
                orchestrator_loop(
                    self.store,
                    self.bus,
                    self.orchestrator,
                    interval=self.settings.orchestrator_interval,
                ),
            )
        ]
        for name, every, job in scheduler_jobs(
            self.store,
            self.schedules,
            self.recovery,
            self.relay,
            self.deps.clock,
            lease_seconds=self.settings.lease_seconds,
        ):
            jobs.append((name, periodic(name, every, job)))
        # Agents whose runs keep failing are degraded, stopped or restarted.
        jobs.append(("health", periodic("health", 10.0, self.health.sweep)))
        # Approvals nobody decided in time: the runs go on without the tool.
        jobs.append(("approvals", periodic("approvals", 5.0, self.approvals.expire_overdue)))
        return jobs

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
        await self.mcp.aclose()  # MCP sessions; stdio servers' processes stop
        await self.models.aclose()  # the model clients' connections
        if self.deps.embedder is not None:
            await self.deps.embedder.aclose()  # the embedding server's connections
        await self.bus.close()
        await self.store.close()


async def ensure_default_workspace(store: Store, clock: Clock) -> None:
    with contextlib.suppress(Conflict):
        await store.add_workspace(Workspace(DEFAULT_WORKSPACE, "Default", clock.now()))


def memory_embedder(settings: Settings) -> Embedder | None:
    """The embedder of long-term memory search, or None: words only."""
    choice = settings.memory_embeddings_choice
    if choice is None:
        return None
    kind, model = choice
    base_url, api_key = settings.memory_embeddings_endpoint
    embedder = create_embedder(kind, model=model, base_url=base_url, api_key=api_key)
    log.info("memory search by words and embeddings", model=embedder.name)
    return embedder


def host_tools(settings: Settings) -> dict[str, Tool]:
    """The tools that reach outside the platform, each through its one guarded
    way: the SSRF-safe fetcher, and the sandbox (chosen on first use)."""
    fetch = HttpFetchTool(SafeHttpFetcher(rules=EgressRules.parse(settings.egress_allow)))
    sandbox = LazySandbox(functools.partial(choose_sandbox, settings.sandbox, settings))
    run = RunCommandTool(sandbox, hidden=[settings.data_dir])
    # The project-directory tools: files and git, confined to Project.workdir.
    return {fetch.spec.name: fetch, run.spec.name: run, **file_tools(), **git_tools()}


def mcp_egress_guard(settings: Settings) -> EgressGuard:
    """The rules MCP servers' HTTP endpoints are held to: the fetcher's own,
    since the platform's host is what connects to them."""
    hint = "the operator can allow it with SWARMYARD_EGRESS_ALLOW"
    return EgressGuard(EgressRules.parse(settings.egress_allow), hint=hint)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    models: ModelClientFactory | None = None,
    platform: PlatformFile | None = None,
    store: Store | None = None,
    bus: Bus | None = None,
    plan: Plan = ALL_IN_ONE,
    lease: LeaderLease | None = None,
    tools: Mapping[str, Tool] | None = None,
    mcp: McpConnector | None = None,
    embedder: Embedder | None = None,
) -> Container:
    """Build a process from settings. `models` replaces the client factory
    (tests hand in their own clients); `platform` the platform file, read
    from its usual places when not given; `plan` the parts this process
    runs, and `lease` makes its control-plane jobs run only while it leads;
    `tools` adds tools (or replaces built-in ones of the same name);
    `mcp` replaces the MCP client (the official SDK's); `embedder` the memory
    embedder SWARMYARD_MEMORY_EMBEDDINGS names."""
    clock = clock or SystemClock()
    ids = ids or UlidIds()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = store or create_store(settings.resolved_database_url)
    bus = bus or create_bus(settings.bus_url)
    relay = Relay(store, bus, clock)
    deps = Deps(
        store=store,
        bus=bus,
        clock=clock,
        ids=ids,
        outbox=relay,
        embedder=embedder if embedder is not None else memory_embedder(settings),
    )
    catalog = CatalogService(deps)
    tasks = TaskService(deps, catalog.known_roles)
    lifecycle = Lifecycle(deps, catalog, lease_seconds=settings.lease_seconds)
    delegator = Delegator(deps, tasks, lifecycle)
    secret = load_or_create_secret(settings.secret_key, settings.data_dir / "secret.key")
    if platform is None:
        platform = load_platform_file(find_platform_file(settings.data_dir))
    layer = model_layer(settings, platform, deps, FernetSecretBox(secret), factory=models)
    consultations = ConsultationService(deps, catalog, layer.router, consultation_messages)
    policies = PolicyService(deps)
    skills = SkillService(deps)
    mcp_box = FernetSecretBox(secret)
    mcp_egress = mcp_egress_guard(settings)
    gateway = McpGateway(
        deps,
        mcp or SdkMcpConnector(egress=mcp_egress),
        mcp_box,
        stdio_allowed=settings.mcp_stdio,
    )
    loop = AgentLoop(
        lifecycle,
        delegator,
        SubtaskWaiter(bus, delegator),
        layer.router,
        {
            **builtin_tools(store, memory=MemoryIndex(deps), clock=clock, ids=ids),
            **consult_tools(bus, consultations.known_roles),
            **host_tools(settings),
            **(tools or {}),
        },
        run_max_seconds=settings.run_max_seconds,
        history_budget_tokens=settings.history_budget_tokens,
        policies=policies.effective,
        workspace_tools=gateway.tools_for,
        skills=skills.grant,
    )
    usage = UsageService(deps, layer.router)
    owner = f"{socket.gethostname()}:{os.getpid()}:{ids.new('w')[-6:]}"
    roles = RoleWatch(
        bus,
        functools.partial(known_roles, store, catalog),
        fixed=settings.worker_role_list,
        refresh_seconds=settings.worker_roles_refresh_seconds,
    )
    worker = Worker(
        bus,
        lifecycle,
        loop,
        owner=owner,
        concurrency=settings.worker_concurrency,
        roles=roles,
        responder=Responder(bus, consultations.handle),
    )
    hasher = Argon2Hasher()
    signer = JwtSigner(secret)
    container = Container(
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
        recovery=Recovery(deps, lifecycle, redispatch_after=settings.redispatch_seconds),
        worker=worker,
        router=layer.router,
        models=layer.factory,
        budgets=BudgetService(deps, on_change=layer.directory.invalidate),
        usage=usage,
        estimates=TaskEstimator(deps, tasks, catalog, usage),
        health=HealthMonitor(deps, catalog),
        model_admin=layer.admin,
        auth=AuthService(deps, hasher, signer),
        identity=IdentityService(deps, hasher),
        rules=WorkspaceRules(deps),
        policies=policies,
        skills=skills,
        approvals=ApprovalService(deps),
        memory=MemoryService(deps),
        task_graphs=TaskGraphService(deps),
        mcp_servers=McpServerService(
            deps,
            mcp_box,
            stdio_allowed=settings.mcp_stdio,
            egress=mcp_egress,
            on_change=gateway.forget,
        ),
        mcp=gateway,
        plan=plan,
    )
    if lease is not None:
        container.leader = Leadership(
            lease, container.control_jobs, owner=owner, ttl=settings.leader_ttl_seconds
        )
    return container
