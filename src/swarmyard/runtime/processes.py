"""`swarmyard api`, `swarmyard worker`, `swarmyard scheduler`: one part of a
cluster per process.

The three share the database (PostgreSQL) and the bus (NATS JetStream):
the API takes requests and streams events, workers drive runs (see
`role_queues` for how work reaches them), and schedulers run the control
plane — orchestrator, cron ticks, lease recovery, outbox sweep, reservation
expiry — under a leader lease, so several may run for availability (see
`leadership`). Any number of each may run on any hosts.

The in-process bus is refused: it lives inside one process, so separate
processes on it could not see each other's messages (a worker would never
hear of a run). `swarmyard serve` is the one-process platform.

Each process checks its settings, database (migrating it) and bus before it
starts, and stops with one line and exit code 2 when one is wrong. Workers
and schedulers serve /healthz and /readyz on `SWARMYARD_HEALTH_PORT` for
Kubernetes probes; on SIGTERM or SIGINT they stop gracefully: a worker stops
claiming and gives its runs `SWARMYARD_SHUTDOWN_GRACE_SECONDS` to finish
before handing them back, a scheduler stops its jobs and releases the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import Any

import structlog
import uvicorn

from ..adapters.bus import create_bus
from ..adapters.coordination import create_leader_lease
from ..adapters.store import create_store
from ..api.app import create_app
from ..config import Settings
from ..ports import Bus, LeaderLease
from .preflight import check_bus, check_database, configure_logging, database_location, fail
from .probes import ProbeServer, Readiness
from .role_queues import known_roles
from .wiring import Container, Plan, build

__all__ = ["API", "SCHEDULER", "WORKER", "run_api", "run_scheduler", "run_worker"]

log = structlog.get_logger("swarmyard.process")

API = Plan(api=True, workers=False, control_plane=False, alone=False)
WORKER = Plan(api=False, workers=True, control_plane=False, alone=False)
SCHEDULER = Plan(api=False, workers=False, control_plane=True, alone=False)


def run_api(settings: Settings) -> None:
    """The HTTP API and the board; several may run behind a load balancer."""
    _begin(settings, "api")
    container = _build(settings, API)
    asyncio.run(_check_services(settings))
    _announce(settings, "api", f"on http://{settings.host}:{settings.port}")
    uvicorn.run(
        create_app(container),  # starts and stops the container with the server
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=15,
    )


def run_worker(settings: Settings) -> None:
    """Runs of the roles in `SWARMYARD_WORKER_ROLES` (every known role when empty)."""
    _begin(settings, "worker")
    roles = ", ".join(settings.worker_role_list) or "every known role"
    _announce(settings, "worker", f"serving {roles}, up to {settings.worker_concurrency} runs")
    asyncio.run(_background(settings, "worker", WORKER))


def run_scheduler(settings: Settings) -> None:
    """The control-plane jobs, while this process holds the leader lease."""
    _begin(settings, "scheduler")
    _announce(settings, "scheduler", f"with a leader lease of {settings.leader_ttl_seconds:g} s")
    asyncio.run(_background(settings, "scheduler", SCHEDULER, lease=create_leader_lease))


def _begin(settings: Settings, process: str) -> None:
    configure_logging(json_lines=settings.log_format == "json")
    problem = settings.cluster_problem(process)
    if problem is not None:
        fail(problem)
    if settings.resolved_database_url.startswith("sqlite"):
        log.warning(
            "SQLite is shared only by processes on this host; use PostgreSQL "
            "(SWARMYARD_DATABASE_URL=postgresql+asyncpg://…) for a cluster"
        )


def _build(settings: Settings, plan: Plan, **kw: Any) -> Container:
    try:
        return build(settings, plan=plan, **kw)
    except ValueError as exc:  # a setting names something we cannot use
        fail(str(exc))


def _announce(settings: Settings, process: str, what: str) -> None:
    bus = settings.bus_url.split("@")[-1]
    print(
        f"Swarmyard {process} {what} — data: {database_location(settings)} — bus: {bus}",
        file=sys.stderr,
        flush=True,
    )


async def _check_services(settings: Settings) -> None:
    """The API's checks, on a store and bus of their own: the container's are
    bound to uvicorn's event loop."""
    store = create_store(settings.resolved_database_url)
    bus = create_bus(settings.bus_url)
    try:
        await check_database(store, settings)
        await check_bus(bus, settings)
    finally:
        with contextlib.suppress(Exception):
            await bus.close()
        await store.close()


async def _background(
    settings: Settings,
    process: str,
    plan: Plan,
    *,
    lease: Callable[[Bus], LeaderLease] | None = None,
) -> None:
    """A worker or scheduler: check, start, serve probes, stop on a signal."""
    try:
        bus = create_bus(settings.bus_url)
    except ValueError as exc:
        fail(str(exc))
    container = _build(settings, plan, bus=bus, lease=lease(bus) if lease else None)
    stop = asyncio.Event()
    probes = ProbeServer(_readiness(container, stop), process=process)
    try:
        await _prepare(container, settings, probes)
    except SystemExit:
        await _close_unstarted(container)
        raise
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await container.start()
        log.info("started", process=process, owner=container.worker.owner)
        await stop.wait()
        log.info("stopping", process=process, grace=settings.shutdown_grace_seconds)
        await container.stop(grace=settings.shutdown_grace_seconds)
        log.info("stopped", process=process)
    finally:
        await probes.close()


async def _prepare(container: Container, settings: Settings, probes: ProbeServer) -> None:
    await check_database(container.store, settings)
    await check_bus(container.bus, settings)
    if container.plan.workers:
        unknown = set(settings.worker_role_list) - await known_roles(
            container.store, container.catalog
        )
        for role in sorted(unknown):
            # Not fatal: its manifest may be published later; until then nothing comes.
            log.warning("no manifest provides this role yet", role=role)
    if settings.health_port:
        try:
            await probes.start(settings.host, settings.health_port)
        except OSError as exc:
            fail(f"cannot serve /healthz on {settings.host}:{settings.health_port}: {exc}")


async def _close_unstarted(container: Container) -> None:
    with contextlib.suppress(Exception):
        await container.bus.close()
    with contextlib.suppress(Exception):
        await container.store.close()
    with contextlib.suppress(Exception):
        await container.models.aclose()


def _readiness(container: Container, stopping: asyncio.Event) -> Readiness:
    async def ready() -> tuple[bool, dict[str, Any]]:
        details: dict[str, Any] = {}
        if container.plan.workers:
            details["roles"] = container.worker.serving
            details["active_runs"] = container.worker.active_runs
        if container.leader is not None:
            details["leader"] = container.leader.leading
        if stopping.is_set():
            return False, {**details, "reason": "shutting down"}
        try:
            await container.store.list_workspaces()
        except Exception as exc:
            return False, {**details, "reason": f"database: {type(exc).__name__}"}
        if container.plan.workers and not container.worker.serving:
            return False, {**details, "reason": "no work queue open yet"}
        return True, details

    return ready
