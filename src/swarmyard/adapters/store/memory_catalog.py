"""In-memory repositories of projects, custom manifests and agents
(the counterparts of `sql_catalog.py`, with the same answers)."""

from __future__ import annotations

from swarmyard.domain import Agent, AgentManifest, Conflict, NotFound, Project
from swarmyard.ports import Page

from . import rows
from .memory_base import MemoryTx, thaw, thaw_all

__all__ = ["MemoryAgentRepo", "MemoryManifestRepo", "MemoryProjectRepo"]

_FIRST_PAGE = Page()


class MemoryProjectRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.projects

    async def add(self, project: Project) -> None:
        row = self._tx.freeze(rows.PROJECTS, project)
        if project.id in self._table:
            raise Conflict(f"project {project.id!r} already exists")
        self._tx.put(self._table, project.id, row)

    async def get(self, project_id: str) -> Project:
        row = self._tx.mine(self._table.get(project_id))
        if row is None:
            raise NotFound("project", project_id)
        return thaw(rows.PROJECTS, row)

    async def update(self, project: Project) -> None:
        if self._tx.mine(self._table.get(project.id)) is None:
            raise NotFound("project", project.id)
        changes = rows.updatable(self._tx.freeze(rows.PROJECTS, project))
        self._tx.change(self._table, project.id, **changes)

    async def delete(self, project_id: str) -> None:
        if self._tx.mine(self._table.get(project_id)) is None:
            raise NotFound("project", project_id)
        self._tx.remove(self._table, project_id)

    async def list(self, page: Page = _FIRST_PAGE) -> list[Project]:
        found = self._tx.newest_first(self._table, self._tx.scan(self._table), page)
        return thaw_all(rows.PROJECTS, found)


class MemoryManifestRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.manifests

    async def add(self, manifest: AgentManifest) -> None:
        key = (self._tx.workspace_id, manifest.id, manifest.version)
        if key in self._table:
            raise Conflict(f"manifest {manifest.id!r} version {manifest.version} already exists")
        row = rows.manifest_row(self._tx.workspace_id, manifest)
        self._tx.put(self._table, key, row)

    async def get(self, manifest_id: str, version: str | None = None) -> AgentManifest | None:
        found = self._tx.scan(
            self._table,
            lambda r: r["id"] == manifest_id and version in (None, r["version"]),
        )
        manifests = [rows.manifest_from_row(r) for r in found]
        return max(manifests, key=lambda m: m.version_tuple, default=None)

    async def list(self) -> list[AgentManifest]:
        manifests = [rows.manifest_from_row(r) for r in self._tx.scan(self._table)]
        return sorted(manifests, key=lambda m: (m.id, m.version_tuple))


class MemoryAgentRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.agents

    async def add(self, agent: Agent) -> None:
        row = self._tx.freeze(rows.AGENTS, agent)
        if agent.id in self._table:
            raise Conflict(f"agent {agent.id!r} already exists")
        self._tx.put(self._table, agent.id, row)

    async def get(self, agent_id: str) -> Agent:
        return thaw(rows.AGENTS, self._row(agent_id))

    async def update(self, agent: Agent) -> None:
        self._row(agent.id)
        changes = rows.updatable(self._tx.freeze(rows.AGENTS, agent), *rows.AGENT_COUNTERS)
        self._tx.change(self._table, agent.id, **changes)

    async def restart(self, agent_id: str, *, running: int) -> None:
        self._row(agent_id)
        self._tx.change(self._table, agent_id, running=running, consecutive_failures=0)

    async def delete(self, agent_id: str) -> None:
        self._row(agent_id)
        self._tx.remove(self._table, agent_id)

    async def take_slot(self, agent_id: str) -> bool:
        row = self._row(agent_id)
        if row["running"] >= row["replicas"]:
            return False
        self._tx.change(self._table, agent_id, running=row["running"] + 1)
        return True

    async def release_slot(self, agent_id: str) -> None:
        row = self._row(agent_id)
        self._tx.change(self._table, agent_id, running=max(row["running"] - 1, 0))

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
        row = self._row(agent_id)
        added = {
            "tasks_succeeded": succeeded,
            "tasks_failed": failed,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost_microusd": cost_microusd,
            "errors": errors,
        }
        changes = {k: row[k] + v for k, v in added.items()}
        changes["consecutive_failures"] = 0 if succeeded else row["consecutive_failures"] + failed
        self._tx.change(self._table, agent_id, **changes)

    def _row(self, agent_id: str) -> rows.Row:
        row = self._tx.mine(self._table.get(agent_id))
        if row is None:
            raise NotFound("agent", agent_id)
        return row

    async def list(self, *, role: str | None = None) -> list[Agent]:
        found = self._tx.scan(self._table, lambda r: role in (None, r["role"]))
        found.sort(key=lambda r: (r["created_at"], r["id"]))
        return thaw_all(rows.AGENTS, found)
