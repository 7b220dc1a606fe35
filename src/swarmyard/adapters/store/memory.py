"""The in-memory `Store`: the SQL store's semantics without a database.

Fast unit tests of services run on it, and it passes the same conformance
suite as SQLite and PostgreSQL. Units of work run one at a time (like
SQLite's single writer) and change the state directly, keeping an undo
journal; leaving a unit of work without `commit()` replays the journal.
The identity unit of work takes its turn in the same queue.
Store-level reads (workspaces, pending outbox) wait for no one and, like a
separate database connection, see committed rows only. Nothing survives
the process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

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

from . import memory_budgets, memory_workspace, rows
from .gate import WriteGate
from .memory_approvals import MemoryApprovalRepo
from .memory_base import MemoryJournal, MemoryState, MemoryTx, thaw_all
from .memory_budgets import MemoryBudgetRepo
from .memory_catalog import MemoryAgentRepo, MemoryManifestRepo, MemoryProjectRepo
from .memory_identity import MemoryIdentityUnitOfWork
from .memory_mcp import MemoryMcpServerRepo
from .memory_members import MemoryApiKeyRepo, MemoryAuditRepo, MemoryMembershipRepo
from .memory_memory_items import MemoryMemoryRepo
from .memory_records import (
    MemoryIdempotencyRepo,
    MemoryLearningRepo,
    MemoryOutboxRepo,
    MemoryScheduleRepo,
)
from .memory_skills import MemorySkillInstallationRepo, MemorySkillPackRepo
from .memory_spend import (
    MemoryLedgerRepo,
    MemoryPriceRepo,
    MemoryProviderRepo,
    MemorySettingsRepo,
)
from .memory_work import MemoryEventRepo, MemoryRunRepo, MemoryTaskRepo
from .memory_workspace import MemoryWorkspaceRulesRepo

__all__ = ["MemoryStore", "MemoryUnitOfWork"]


class MemoryUnitOfWork:
    """One transaction in one workspace. Leaving without `commit()` rolls back.

    Errors behave as in `SqlUnitOfWork`: a `Conflict`, `StaleAttempt` or
    `NotFound` wrote nothing and leaves it usable; writing into a missing
    workspace rolls it back. After `commit()` or `rollback()` it may go on
    with a new transaction.
    """

    def __init__(self, state: MemoryState, workspace_id: str) -> None:
        tx = MemoryTx(state, workspace_id)
        self.tx = tx
        self.workspace_id = workspace_id
        self.projects: ProjectRepo = MemoryProjectRepo(tx)
        self.manifests: ManifestRepo = MemoryManifestRepo(tx)
        self.agents: AgentRepo = MemoryAgentRepo(tx)
        self.tasks: TaskRepo = MemoryTaskRepo(tx)
        self.runs: RunRepo = MemoryRunRepo(tx)
        self.events: EventRepo = MemoryEventRepo(tx)
        self.learning: LearningRepo = MemoryLearningRepo(tx)
        self.schedules: ScheduleRepo = MemoryScheduleRepo(tx)
        self.approvals: ApprovalRepo = MemoryApprovalRepo(tx)
        self.memory: MemoryRepo = MemoryMemoryRepo(tx)
        self.mcp_servers: McpServerRepo = MemoryMcpServerRepo(tx)
        self.skill_packs: SkillPackRepo = MemorySkillPackRepo(tx)
        self.skill_installations: SkillInstallationRepo = MemorySkillInstallationRepo(tx)
        self.idempotency: IdempotencyRepo = MemoryIdempotencyRepo(tx)
        self.outbox: OutboxRepo = MemoryOutboxRepo(tx)
        self.members: MembershipRepo = MemoryMembershipRepo(tx)
        self.api_keys: ApiKeyRepo = MemoryApiKeyRepo(tx)
        self.audit: AuditRepo = MemoryAuditRepo(tx)
        self.rules: WorkspaceRulesRepo = MemoryWorkspaceRulesRepo(tx)
        self.budgets: BudgetRepo = MemoryBudgetRepo(tx)
        self.ledger: LedgerRepo = MemoryLedgerRepo(tx)
        self.prices: PriceRepo = MemoryPriceRepo(tx)
        self.providers: ProviderRepo = MemoryProviderRepo(tx)
        self.settings: SettingsRepo = MemorySettingsRepo(tx)

    async def commit(self) -> None:
        if self.tx.rolled_back_by is not None:
            raise RuntimeError(
                "cannot commit: this unit of work was rolled back after an error"
            ) from self.tx.rolled_back_by
        self.tx.commit()

    async def rollback(self) -> None:
        self.tx.rollback()


class MemoryStore:
    def __init__(self) -> None:
        self._state = MemoryState()
        self._gate = WriteGate()
        self._open: MemoryJournal | None = None  # the unit of work holding the gate

    async def migrate(self) -> None:
        """Nothing to migrate: the schema is the code."""

    @asynccontextmanager
    async def unit_of_work(self, workspace_id: str) -> AsyncIterator[MemoryUnitOfWork]:
        uow = MemoryUnitOfWork(self._state, workspace_id)
        async with self._gate.hold(), self._opened(uow):
            yield uow

    @asynccontextmanager
    async def identity(self) -> AsyncIterator[MemoryIdentityUnitOfWork]:
        idn = MemoryIdentityUnitOfWork(self._state)
        async with self._gate.hold(), self._opened(idn):
            yield idn

    @asynccontextmanager
    async def _opened(
        self, uow: MemoryUnitOfWork | MemoryIdentityUnitOfWork
    ) -> AsyncIterator[None]:
        """Hand out a unit of work that holds the gate; whatever it left
        uncommitted is rolled back."""
        self._open = uow.tx
        try:
            yield
        finally:
            self._open = None
            uow.tx.rollback()

    async def add_workspace(self, workspace: Workspace) -> None:
        row = rows.WORKSPACES.encode(workspace)
        async with self._gate.hold():
            if workspace.id in self._state.workspaces:
                raise Conflict(f"workspace {workspace.id!r} already exists")
            self._state.workspaces[workspace.id] = row

    async def delete_workspace(self, workspace_id: str) -> None:
        async with self._journalled() as journal:
            memory_workspace.delete_workspace(journal, workspace_id)

    async def release_expired_reservations(
        self, now: datetime, limit: int = 500
    ) -> list[Reservation]:
        async with self._journalled() as journal:
            return memory_budgets.release_expired(journal, now, limit)

    @asynccontextmanager
    async def _journalled(self) -> AsyncIterator[MemoryJournal]:
        """A store-level write, journalled like a unit of work so that it
        takes effect whole or not at all."""
        journal = MemoryJournal(self._state)
        async with self._gate.hold():
            try:
                yield journal
            except BaseException:
                journal.rollback()
                raise
            journal.commit()

    # Reads take no gate, as in the SQL store, and like a separate database
    # connection they see committed rows only.
    async def get_workspace(self, workspace_id: str) -> Workspace:
        row = self._state.workspaces.get(workspace_id)
        if row is None:
            raise NotFound("workspace", workspace_id)
        return rows.WORKSPACES.decode(row)

    async def list_workspaces(self) -> list[Workspace]:
        found = sorted(self._state.workspaces.values(), key=lambda r: (r["created_at"], r["id"]))
        return [rows.WORKSPACES.decode(r) for r in found]

    async def outbox_pending(self, limit: int = 500) -> list[OutboxMessage]:
        table = self._state.outbox
        visible = table if self._open is None else self._open.committed(table)
        found = sorted(visible.values(), key=lambda r: (r["created_at"], r["id"]))
        return thaw_all(rows.OUTBOX, found[: max(limit, 0)])

    async def outbox_done(self, ids: Sequence[str]) -> None:
        async with self._gate.hold():
            for message_id in ids:
                self._state.outbox.pop(message_id, None)

    async def close(self) -> None:
        """Nothing to release."""
