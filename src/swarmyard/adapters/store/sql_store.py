"""The SQL `Store`: SQLite (embedded) and PostgreSQL (cluster) from one code path.

A unit of work is one connection with one transaction, scoped to one
workspace; the identity unit of work is the same, over the tables that
live above workspaces. On SQLite both queue on one in-process gate,
because the database admits one writer at a time anyway (see `gate.py`).
Deleting a workspace is one more such transaction, over every table (see
`sql_workspace.py`). Store-level reads (workspaces, pending outbox) use a
connection of their own, outside the gate and, on SQLite, in a deferred
transaction: the outbox relay polls them and must never wait for a writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from swarmyard.domain import Conflict, NotFound, Reservation, Workspace
from swarmyard.ports import (
    AgentRepo,
    ApiKeyRepo,
    ApprovalRepo,
    AuditRepo,
    BudgetRepo,
    EventRepo,
    IdempotencyRepo,
    LearningRepo,
    LedgerRepo,
    ManifestRepo,
    McpServerRepo,
    MembershipRepo,
    MemoryRepo,
    OutboxMessage,
    OutboxRepo,
    PriceRepo,
    ProjectRepo,
    ProviderRepo,
    RunRepo,
    ScheduleRepo,
    SettingsRepo,
    SkillInstallationRepo,
    SkillPackRepo,
    TaskRepo,
    WorkspaceRulesRepo,
)

from . import migrator, rows, sql_budgets, sql_workspace
from .engine import READ_ONLY, create_engine
from .gate import WriteGate
from .sql_approvals import SqlApprovalRepo
from .sql_base import SqlConn, SqlTx
from .sql_budgets import SqlBudgetRepo
from .sql_catalog import SqlAgentRepo, SqlManifestRepo, SqlProjectRepo
from .sql_identity import SqlIdentityUnitOfWork
from .sql_mcp import SqlMcpServerRepo
from .sql_members import SqlApiKeyRepo, SqlAuditRepo, SqlMembershipRepo
from .sql_memory_items import SqlMemoryRepo
from .sql_records import SqlIdempotencyRepo, SqlLearningRepo, SqlOutboxRepo, SqlScheduleRepo
from .sql_runs import SqlEventRepo, SqlRunRepo
from .sql_skills import SqlSkillInstallationRepo, SqlSkillPackRepo
from .sql_spend import SqlLedgerRepo, SqlPriceRepo, SqlProviderRepo, SqlSettingsRepo
from .sql_tasks import SqlTaskRepo
from .sql_workspace import SqlWorkspaceRulesRepo
from .tables import outbox, workspaces

__all__ = ["SqlStore", "SqlUnitOfWork"]


class SqlUnitOfWork:
    """One transaction in one workspace. Leaving without `commit()` rolls back.

    A `Conflict`, `StaleAttempt` or `NotFound` from a repository wrote
    nothing and leaves the unit of work usable; only writing into a
    workspace that does not exist rolls it back (see `sql_base.py`). After
    `commit()` or `rollback()` the unit of work may go on: the next statement
    starts a new transaction, in turn rolled back unless committed.
    """

    def __init__(self, conn: AsyncConnection, workspace_id: str) -> None:
        tx = SqlTx(conn, workspace_id)
        self._tx = tx
        self.workspace_id = workspace_id
        self.projects: ProjectRepo = SqlProjectRepo(tx)
        self.manifests: ManifestRepo = SqlManifestRepo(tx)
        self.agents: AgentRepo = SqlAgentRepo(tx)
        self.tasks: TaskRepo = SqlTaskRepo(tx)
        self.runs: RunRepo = SqlRunRepo(tx)
        self.events: EventRepo = SqlEventRepo(tx)
        self.learning: LearningRepo = SqlLearningRepo(tx)
        self.schedules: ScheduleRepo = SqlScheduleRepo(tx)
        self.approvals: ApprovalRepo = SqlApprovalRepo(tx)
        self.memory: MemoryRepo = SqlMemoryRepo(tx)
        self.mcp_servers: McpServerRepo = SqlMcpServerRepo(tx)
        self.skill_packs: SkillPackRepo = SqlSkillPackRepo(tx)
        self.skill_installations: SkillInstallationRepo = SqlSkillInstallationRepo(tx)
        self.idempotency: IdempotencyRepo = SqlIdempotencyRepo(tx)
        self.outbox: OutboxRepo = SqlOutboxRepo(tx)
        self.members: MembershipRepo = SqlMembershipRepo(tx)
        self.api_keys: ApiKeyRepo = SqlApiKeyRepo(tx)
        self.audit: AuditRepo = SqlAuditRepo(tx)
        self.rules: WorkspaceRulesRepo = SqlWorkspaceRulesRepo(tx)
        self.budgets: BudgetRepo = SqlBudgetRepo(tx)
        self.ledger: LedgerRepo = SqlLedgerRepo(tx)
        self.prices: PriceRepo = SqlPriceRepo(tx)
        self.providers: ProviderRepo = SqlProviderRepo(tx)
        self.settings: SettingsRepo = SqlSettingsRepo(tx)

    async def commit(self) -> None:
        await self._tx.commit()

    async def rollback(self) -> None:
        await self._tx.rollback()


class SqlStore:
    """`Store` over SQLAlchemy's asyncio engine (aiosqlite or asyncpg)."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_engine(url)
        self._gate = WriteGate() if self.engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        async with self._serialised():
            await migrator.upgrade(self.engine)

    @asynccontextmanager
    async def unit_of_work(self, workspace_id: str) -> AsyncIterator[SqlUnitOfWork]:
        async with self._transaction() as conn:
            yield SqlUnitOfWork(conn, workspace_id)

    @asynccontextmanager
    async def identity(self) -> AsyncIterator[SqlIdentityUnitOfWork]:
        async with self._transaction() as conn:
            yield SqlIdentityUnitOfWork(conn)

    async def add_workspace(self, workspace: Workspace) -> None:
        tx_row = rows.WORKSPACES.encode(workspace)
        async with self._transaction() as conn:
            tx = SqlTx(conn, workspace.id)
            if not await tx.insert_new(workspaces, tx_row):
                raise Conflict(f"workspace {workspace.id!r} already exists")
            await conn.commit()

    async def get_workspace(self, workspace_id: str) -> Workspace:
        query = select(workspaces).where(workspaces.c.id == workspace_id)
        async with self._reading() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("workspace", workspace_id)
        return rows.WORKSPACES.decode(row)

    async def list_workspaces(self) -> list[Workspace]:
        query = select(workspaces).order_by(workspaces.c.created_at, workspaces.c.id)
        async with self._reading() as conn:
            return [rows.WORKSPACES.decode(r) for r in (await conn.execute(query)).mappings()]

    async def delete_workspace(self, workspace_id: str) -> None:
        # A write transaction like a unit of work's: on SQLite it queues at the gate.
        async with self._transaction() as conn:
            await sql_workspace.delete_workspace(conn, workspace_id)
            await conn.commit()

    async def outbox_pending(self, limit: int = 500) -> list[OutboxMessage]:
        query = select(outbox).order_by(outbox.c.created_at, outbox.c.id).limit(limit)
        async with self._reading() as conn:
            return [rows.OUTBOX.decode(r) for r in (await conn.execute(query)).mappings()]

    async def outbox_done(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        async with self._transaction() as conn:
            await conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))
            await conn.commit()

    async def release_expired_reservations(
        self, now: datetime, limit: int = 500
    ) -> list[Reservation]:
        async with self._transaction() as conn:
            released = await sql_budgets.release_expired(SqlConn(conn), now, limit)
            await conn.commit()
        return released

    async def close(self) -> None:
        await self.engine.dispose()

    def _serialised(self) -> AbstractAsyncContextManager[Any]:
        return nullcontext() if self._gate is None else self._gate.hold()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._serialised(), self.engine.connect() as conn:
            await conn.begin()
            yield conn

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        # No gate and no write lock: the outbox relay polls this while
        # workers write, and a read may run inside an open unit of work.
        async with self.engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            await conn.begin()
            yield conn
