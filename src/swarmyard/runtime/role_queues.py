"""Which work queues a worker consumes: one durable consumer per role.

The orchestrator puts each run on ``swarmyard.<ws>.tasks.ready.<role>``. On
a work queue every message belongs to exactly one durable (the bus refuses
overlapping filters), so a worker restricted to some roles cannot share one
catch-all durable with the others. Every role therefore has its own durable,
``workers-<role>`` filtering ``swarmyard.*.tasks.ready.<role>``, and a worker
process opens a consumer on the durable of each role it serves. Workers of
the same role share that durable, so each run message reaches one of them;
a role nobody serves yet keeps its messages until a consumer appears (the
in-process bus holds them as orphans, a JetStream work-queue stream keeps
them).

A worker started with ``--roles`` serves exactly those. Without it, it
serves every known role: the built-in ones, those of the custom manifests
of every workspace, and those of installed agents. A custom role published
later is picked up at once when an agent of it is installed (the board
notice names the role) and, as a safety net for a missed notice, by a
periodic rediscovery.

Every process sharing a durable must open it with the same settings, and
a durable outlives the processes on JetStream, so they are constants here
rather than derived from settings that may differ between processes or
change between deploys. `ACK_WAIT` only has to cover the moment between a
fetch and the claim (the message is acked right after the claim; the run's
lease protects it from then on).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection

import structlog

from ..catalog import Catalog
from ..config import ROLE_NAME
from ..domain import subjects
from ..ports import Bus, Store, Subscription
from ..services.catalog import CatalogService

__all__ = [
    "ACK_WAIT",
    "MAX_DELIVER",
    "RoleWatch",
    "durable_of",
    "filter_of",
    "known_roles",
    "valid_role",
]

log = structlog.get_logger("swarmyard.worker")

ACK_WAIT = 30.0  # seconds between a fetch and the ack after the claim
MAX_DELIVER = 20  # then the message is dead-lettered (the run stays pending)


def valid_role(role: str) -> bool:
    return bool(ROLE_NAME.match(role))


def durable_of(role: str) -> str:
    return f"workers-{role}"


def filter_of(role: str) -> str:
    return subjects.tasks_ready("*", role)


async def known_roles(store: Store, catalog: CatalogService) -> set[str]:
    """Every role a run can have: built-in, custom (any workspace), installed."""
    roles = set(Catalog().roles())
    for ws in await store.list_workspaces():
        async with store.unit_of_work(ws.id) as uow:
            roles |= await catalog.known_roles(uow)
            # An agent keeps the role of the manifest version it was installed from.
            roles |= {a.role for a in await uow.agents.list()}
    return roles


class RoleWatch:
    """Tells a worker which roles to serve: a fixed list, or every known role."""

    def __init__(
        self,
        bus: Bus,
        discover: Callable[[], Awaitable[set[str]]],
        *,
        fixed: Collection[str] = (),
        refresh_seconds: float = 30.0,
    ) -> None:
        self._bus = bus
        self._discover = discover
        self.fixed = tuple(fixed)
        self._refresh = refresh_seconds

    async def watch(self, serve: Callable[[str], None]) -> None:
        """Call `serve(role)` for every role to serve (repeats are the
        caller's to ignore). With fixed roles it returns once they are named;
        otherwise it runs until cancelled."""
        if self.fixed:
            for role in self.fixed:
                serve(role)
            return
        # Subscribe before the first discovery, so an agent installed in
        # between is not missed.
        board = await self._bus.subscribe(subjects.board("*"))
        try:
            for role in Catalog().roles():  # at once: these need no database
                serve(role)
            while True:
                await self._rediscover(serve)
                await self._follow(board, serve)
        finally:
            await board.unsubscribe()

    async def _rediscover(self, serve: Callable[[str], None]) -> None:
        try:
            roles = await self._discover()
        except Exception:
            log.exception("could not list the known roles; trying again later")
            return
        for role in sorted(roles):
            if valid_role(role):
                serve(role)

    async def _follow(self, board: Subscription, serve: Callable[[str], None]) -> None:
        """Serve the roles of agents installed meanwhile, until it is time to
        rediscover."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self._refresh
        while (left := until - loop.time()) > 0:
            try:
                msg = await board.next(timeout=left)
            except TimeoutError:
                return
            role = _installed_role(msg.data)
            if role is not None:
                serve(role)


def _installed_role(data: bytes) -> str | None:
    """The role of the agent a board notice is about, if it is one."""
    if b'"agent"' not in data:  # most board messages are task moves: skip parsing them
        return None
    try:
        body = json.loads(data)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("kind") != "agent":
        return None
    agent = body.get("agent")
    role = agent.get("role") if isinstance(agent, dict) else None
    return role if isinstance(role, str) and valid_role(role) else None
