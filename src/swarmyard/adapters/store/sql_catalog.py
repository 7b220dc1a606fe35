"""SQL repositories of what a workspace is made of: projects, custom manifests, agents.

Agents' slot counters move only through single guarded UPDATE statements
(``running = running + 1 WHERE running < replicas``), so concurrent workers
in any number of processes can never hand out more slots than replicas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import bindparam, case, delete, select, update

from swarmyard.domain import Agent, AgentManifest, Conflict, NotFound, Project, parse_version
from swarmyard.ports import Page

from . import rows
from .sql_base import SqlTx, newest_first
from .tables import agents, manifests, projects

__all__ = ["SqlAgentRepo", "SqlManifestRepo", "SqlProjectRepo"]

_FIRST_PAGE = Page()
# The one agent a prepared statement changes (`SqlAgentRepo._this` binds it).
_THIS_AGENT = (agents.c.workspace_id == bindparam("b_workspace"), agents.c.id == bindparam("b_id"))


class SqlProjectRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, project: Project) -> None:
        row = rows.owned_row(rows.PROJECTS, project, self._tx.workspace_id)
        if not await self._tx.insert_new(projects, row):
            raise Conflict(f"project {project.id!r} already exists")

    async def get(self, project_id: str) -> Project:
        query = select(projects).where(self._tx.scoped(projects), projects.c.id == project_id)
        row = (await self._tx.execute(query)).mappings().first()
        if row is None:
            raise NotFound("project", project_id)
        return rows.PROJECTS.decode(row)

    async def update(self, project: Project) -> None:
        statement = (
            update(projects)
            .where(self._tx.scoped(projects), projects.c.id == project.id)
            .values(rows.updatable(rows.PROJECTS.encode(project)))
        )
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("project", project.id)

    async def delete(self, project_id: str) -> None:
        statement = delete(projects).where(self._tx.scoped(projects), projects.c.id == project_id)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("project", project_id)

    async def list(self, page: Page = _FIRST_PAGE) -> list[Project]:
        where, order = newest_first(projects, page, self._tx.scoped(projects))
        query = (
            select(projects)
            .where(self._tx.scoped(projects), *where)
            .order_by(*order)
            .limit(page.limit)
        )
        return [rows.PROJECTS.decode(r) for r in (await self._tx.execute(query)).mappings()]


class SqlManifestRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, manifest: AgentManifest) -> None:
        row = rows.manifest_row(self._tx.workspace_id, manifest)
        if not await self._tx.insert_new(manifests, row):
            raise Conflict(f"manifest {manifest.id!r} version {manifest.version} already exists")

    async def get(self, manifest_id: str, version: str | None = None) -> AgentManifest | None:
        if version is None:
            result = await self._tx.by_key(manifests, [manifests.c.data], "id", manifest_id)
        else:
            query = select(manifests.c.data).where(
                self._tx.scoped(manifests),
                manifests.c.id == manifest_id,
                manifests.c.version == version,
            )
            result = await self._tx.execute(query)
        found = [rows.manifest_from_row(r) for r in result.mappings()]
        # Versions order numerically (1.10.0 > 1.9.0), which SQL text order cannot do.
        return max(found, key=lambda m: m.version_tuple, default=None)

    async def list(self) -> list[AgentManifest]:
        query = select(manifests.c.data).where(self._tx.scoped(manifests))
        found = [rows.manifest_from_row(r) for r in (await self._tx.execute(query)).mappings()]
        return sorted(found, key=lambda m: (m.id, parse_version(m.version)))


class SqlAgentRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, agent: Agent) -> None:
        row = rows.owned_row(rows.AGENTS, agent, self._tx.workspace_id)
        if not await self._tx.insert_new(agents, row):
            raise Conflict(f"agent {agent.id!r} already exists")

    async def get(self, agent_id: str) -> Agent:
        row = (await self._tx.by_key(agents, list(agents.c), "id", agent_id)).mappings().first()
        if row is None:
            raise NotFound("agent", agent_id)
        return rows.AGENTS.decode(row)

    async def update(self, agent: Agent) -> None:
        changes = rows.updatable(rows.AGENTS.encode(agent), *rows.AGENT_COUNTERS)
        await self._update(agent.id, ("update", *changes), dict, changes)

    async def restart(self, agent_id: str, *, running: int) -> None:
        changes = {"running": running, "consecutive_failures": 0}
        await self._update(agent_id, ("restart",), dict, changes)

    async def delete(self, agent_id: str) -> None:
        statement = delete(agents).where(self._tx.scoped(agents), agents.c.id == agent_id)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("agent", agent_id)

    async def take_slot(self, agent_id: str) -> bool:
        statement = self._tx.prepared(
            ("take_slot",),
            lambda: (
                update(agents)
                .where(*_THIS_AGENT, agents.c.running < agents.c.replicas)
                .values(running=agents.c.running + 1)
            ),
        )
        if (await self._tx.execute(statement, [self._this(agent_id)])).rowcount:
            return True
        # Only the refusal pays for telling "full" from "no such agent".
        if not await self._tx.exists(agents, "id", agent_id):
            raise NotFound("agent", agent_id)
        return False

    async def release_slot(self, agent_id: str) -> None:
        running = agents.c.running
        values = {"running": case((running > 0, running - 1), else_=0)}
        await self._update(agent_id, ("release_slot",), lambda: values)

    async def add_usage(
        self,
        agent_id: str,
        *,
        succeeded: int = 0,
        failed: int = 0,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cost_microusd: int = 0,
        errors: int = 0,
    ) -> None:
        c = agents.c
        added = {
            "tasks_succeeded": succeeded,
            "tasks_failed": failed,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost_microusd": cost_microusd,
            "errors": errors,
        }

        def values() -> dict[str, object]:
            sums: dict[str, object] = {k: c[k] + bindparam(f"d_{k}") for k in added}
            # A success ends the failure streak the health monitor watches.
            sums["consecutive_failures"] = (
                0 if succeeded else c.consecutive_failures + bindparam("d_tasks_failed")
            )
            return sums

        params = {f"d_{k}": v for k, v in added.items()}
        await self._update(agent_id, ("add_usage", bool(succeeded)), values, params)

    def _this(self, agent_id: str) -> dict[str, object]:
        return {"b_workspace": self._tx.workspace_id, "b_id": agent_id}

    async def _update(
        self,
        agent_id: str,
        shape: tuple[object, ...],
        values: Callable[[], Mapping[str, object]],
        params: Mapping[str, object] | None = None,
    ) -> None:
        """A prepared UPDATE of one agent: its `shape` names the SET clause,
        which is what `values` builds plus the columns `params` name."""
        statement = self._tx.prepared(
            ("update_agent", *shape),
            lambda: update(agents).where(*_THIS_AGENT).values(values()),
        )
        bound = {**self._this(agent_id), **(params or {})}
        if not (await self._tx.execute(statement, [bound])).rowcount:
            raise NotFound("agent", agent_id)

    async def list(self, *, role: str | None = None) -> list[Agent]:
        query = select(agents).where(self._tx.scoped(agents))
        if role is not None:
            query = query.where(agents.c.role == role)
        query = query.order_by(agents.c.created_at, agents.c.id)
        return [rows.AGENTS.decode(r) for r in (await self._tx.execute(query)).mappings()]
