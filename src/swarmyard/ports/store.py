"""The Store port: units of work over one workspace, their repositories, and
the identity unit of work that lives above workspaces.

One `UnitOfWork` is one transaction in one workspace; every repository
method is scoped by that workspace — there is no way to reach another
tenant's row through it. Writes that race across processes are guarded
(slot counters update atomically, tasks carry a version, runs are fenced
by their attempt number)."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..domain import (
    Agent,
    AgentManifest,
    ApiKey,
    Approval,
    ApprovalStatus,
    AuditEntry,
    Execution,
    LearningProfile,
    Membership,
    Project,
    RefreshToken,
    Reservation,
    Run,
    RunEvent,
    RunStatus,
    Schedule,
    Task,
    TaskStatus,
    User,
    Workspace,
)
from .mcp import McpServerRepo
from .memory import MemoryRepo
from .skills import SkillInstallationRepo, SkillPackRepo
from .spend import BudgetRepo, LedgerRepo, PriceRepo, ProviderRepo, SettingsRepo

__all__ = [
    "AgentRepo",
    "ApiKeyRepo",
    "ApprovalRepo",
    "AuditFilter",
    "AuditRepo",
    "EventRepo",
    "IdempotencyRepo",
    "IdempotentResponse",
    "IdentityUnitOfWork",
    "LearningRepo",
    "ManifestRepo",
    "MembershipRepo",
    "OutboxMessage",
    "OutboxRepo",
    "Page",
    "ProjectRepo",
    "RefreshTokenRepo",
    "RunRepo",
    "ScheduleRepo",
    "Store",
    "TaskFilter",
    "TaskRepo",
    "UnitOfWork",
    "UserRepo",
    "WorkspaceRulesRepo",
]


@dataclass(frozen=True, slots=True)
class Page:
    """Keyset paging: `after` is the id of the last row of the previous page."""

    limit: int = 50
    after: str | None = None


@dataclass(frozen=True, slots=True)
class TaskFilter:
    project_id: str | None = None
    statuses: Sequence[TaskStatus] = ()
    role: str | None = None  # matches required_role or the assignee's role
    type: str | None = None
    parent_id: str | None = None
    assignee_agent_id: str | None = None
    text: str | None = None  # case-insensitive substring of title or description


@dataclass(frozen=True, slots=True)
class IdempotentResponse:
    """A stored answer to a mutating request, replayed when its key comes again."""

    key: str
    request_hash: str
    status_code: int
    body: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A bus message written in the same transaction as the state change it announces."""

    id: str  # also the Nats-Msg-Id, so a re-published message is deduplicated
    workspace_id: str
    subject: str
    data: bytes
    created_at: datetime
    work_queue: bool = False  # True: enqueue on the durable work queue; False: publish
    # False: no outbox row was written; the message is only published after
    # commit. Run events are sent so: their own rows are the durable record,
    # and every stream fills a gap in the sequence numbers from them.
    stored: bool = True


class ProjectRepo(Protocol):
    async def add(self, project: Project) -> None: ...
    async def get(self, project_id: str) -> Project:
        """Raises NotFound."""
        ...

    async def list(self, page: Page = Page()) -> list[Project]: ...
    async def update(self, project: Project) -> None: ...
    async def delete(self, project_id: str) -> None: ...


class ManifestRepo(Protocol):
    """Custom manifests of this workspace (built-ins come from the catalogue files)."""

    async def add(self, manifest: AgentManifest) -> None:
        """Raises Conflict if this id and version already exist."""
        ...

    async def get(self, manifest_id: str, version: str | None = None) -> AgentManifest | None:
        """The given version, or the highest one when `version` is None."""
        ...

    async def list(self) -> list[AgentManifest]: ...


class AgentRepo(Protocol):
    async def add(self, agent: Agent) -> None: ...
    async def get(self, agent_id: str) -> Agent:
        """Raises NotFound."""
        ...

    async def list(self, *, role: str | None = None) -> list[Agent]: ...
    async def update(self, agent: Agent) -> None:
        """Writes every field but the counters (`running`, usage, failure
        streak), which move only atomically (take/release_slot, add_usage, restart)."""
        ...

    async def restart(self, agent_id: str, *, running: int) -> None:
        """Atomically clear the failure streak and set `running` to the slots
        the agent's live runs really hold (the health monitor's restart)."""
        ...

    async def delete(self, agent_id: str) -> None: ...
    async def take_slot(self, agent_id: str) -> bool:
        """Atomically `running += 1` if a slot is free; False if none is."""
        ...

    async def release_slot(self, agent_id: str) -> None:
        """Atomically `running -= 1` (never below zero)."""
        ...

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
        """Atomically add to the counters. A success ends the agent's failure
        streak (`consecutive_failures` = 0); each failure lengthens it."""
        ...


class TaskRepo(Protocol):
    async def add(self, task: Task) -> None:
        """Raises Conflict if `origin_key` is already taken."""
        ...

    async def get(self, task_id: str) -> Task:
        """Raises NotFound."""
        ...

    async def get_many(self, task_ids: Sequence[str]) -> list[Task]: ...
    async def by_origin(self, origin_key: str) -> Task | None: ...
    async def list(self, flt: TaskFilter = TaskFilter(), page: Page = Page()) -> list[Task]:
        """Newest first."""
        ...

    async def update(self, task: Task) -> None:
        """Saves if `task.version` is still the stored one, then bumps it; else Conflict."""
        ...

    async def ready(
        self,
        limit: int = 100,
        *,
        roles: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        unexplained: bool = False,
    ) -> builtins.list[Task]:
        """Tasks in todo, no assignee, highest priority then oldest first.

        With `roles`, only tasks an agent of those roles or task types could
        take: required_role in `roles`, or no required role and either a type
        in `types` or required capabilities named. The orchestrator passes
        what its free agents can do, so a long queue of tasks nobody can take
        never hides one that somebody can. With `unexplained`, only tasks
        with no waiting reason yet (what a pass with every agent busy still
        has to explain).
        """
        ...

    async def dependants(self, task_id: str) -> builtins.list[Task]:
        """Tasks whose depends_on includes `task_id`."""
        ...

    async def counts_by_status(self) -> dict[TaskStatus, int]: ...


class RunRepo(Protocol):
    async def add(self, run: Run) -> None: ...
    async def get(self, run_id: str) -> Run:
        """Raises NotFound."""
        ...

    async def list(
        self,
        *,
        task_id: str | None = None,
        statuses: Sequence[RunStatus] = (),
        agent_id: str | None = None,
        page: Page = Page(),
    ) -> builtins.list[Run]: ...
    async def claim(
        self, run_id: str, *, owner: str, now: datetime, lease_until: datetime
    ) -> Run | None:
        """Take the run if it is pending, or running with an expired lease.

        Bumps `attempt` (the fencing token) and sets the lease; returns the
        claimed run, or None if somebody else holds it or it has finished.
        """
        ...

    async def renew(self, run_id: str, *, attempt: int, owner: str, lease_until: datetime) -> bool:
        """Extend the lease; False when the run was taken over (fenced)."""
        ...

    async def save(self, run: Run, *, checkpoint: bytes | None = None) -> None:
        """Write the run if its stored attempt equals `run.attempt`; else StaleAttempt.
        A given checkpoint replaces the stored one."""
        ...

    async def checkpoint(self, run_id: str) -> bytes | None: ...
    async def expired(self, now: datetime, limit: int = 100) -> builtins.list[Run]:
        """Running runs whose lease has expired."""
        ...

    async def waiting(self, before: datetime, limit: int = 100) -> builtins.list[Run]:
        """Pending runs created before `before`, oldest first: never claimed,
        so perhaps their work-queue message was lost."""
        ...

    async def active_count(self, agent_id: str) -> int:
        """Runs of this agent that hold a slot (pending or running)."""
        ...


class EventRepo(Protocol):
    async def append(self, events: Sequence[RunEvent]) -> None:
        """Append; a repeated (run_id, seq) raises Conflict and nothing is written."""
        ...

    async def list(self, run_id: str, *, after: int = 0, limit: int = 1000) -> list[RunEvent]: ...


class LearningRepo(Protocol):
    async def add_execution(self, execution: Execution) -> None: ...
    async def executions(
        self,
        agent_id: str,
        *,
        task_type: str | None = None,
        since: datetime | None = None,
        limit: int = 500,
    ) -> list[Execution]:
        """Newest first; `task_type` None means every type."""
        ...

    async def save_profile(self, profile: LearningProfile) -> None:
        """Insert or replace the (agent, task type) profile."""
        ...

    async def profiles(
        self, agent_ids: Sequence[str], task_types: Sequence[str] | None = None
    ) -> list[LearningProfile]: ...


class ApprovalRepo(Protocol):
    async def add(self, approval: Approval) -> Approval:
        """Store the request, or answer the one already made for the same
        (run, tool call): a resumed run asks once."""
        ...

    async def get(self, approval_id: str) -> Approval:
        """Raises NotFound."""
        ...

    async def for_call(self, run_id: str, call_id: str) -> Approval | None: ...

    async def list(
        self, *, status: ApprovalStatus | None = None, run_id: str | None = None, limit: int = 100
    ) -> list[Approval]:
        """Newest first."""
        ...

    async def decide(self, approval: Approval) -> bool:
        """Write the decision if the request is still pending; False if it
        was decided meanwhile (the first decision stands)."""
        ...

    async def overdue(self, now: datetime, *, limit: int = 100) -> builtins.list[Approval]:
        """Pending requests whose deadline has passed, oldest deadline first."""
        ...


class ScheduleRepo(Protocol):
    async def add(self, schedule: Schedule) -> None: ...
    async def get(self, schedule_id: str) -> Schedule:
        """Raises NotFound."""
        ...

    async def list(self) -> list[Schedule]: ...
    async def update(self, schedule: Schedule, *, only: Collection[str] | None = None) -> None:
        """Write the schedule, or only the fields named in `only`. Raises NotFound.

        A tick and a pause may change the same schedule at once; each writes
        only its own fields, so neither undoes the other."""
        ...

    async def delete(self, schedule_id: str) -> None: ...
    async def due(self, now: datetime) -> builtins.list[Schedule]:
        """Enabled schedules whose next_run_at <= now."""
        ...


class IdempotencyRepo(Protocol):
    async def get(self, key: str) -> IdempotentResponse | None: ...
    async def put(self, response: IdempotentResponse) -> None:
        """Raises Conflict if the key is already stored."""
        ...


class OutboxRepo(Protocol):
    async def add(self, message: OutboxMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("task.")
    since: datetime | None = None


class MembershipRepo(Protocol):
    async def add(self, membership: Membership) -> None:
        """Raises Conflict if the user is already a member."""
        ...

    async def get(self, user_id: str) -> Membership:
        """Raises NotFound."""
        ...

    async def list(self) -> builtins.list[Membership]: ...
    async def update(self, membership: Membership) -> None: ...
    async def delete(self, user_id: str) -> None: ...


class ApiKeyRepo(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: str) -> ApiKey:
        """Raises NotFound."""
        ...

    async def list(self) -> builtins.list[ApiKey]:
        """Newest first, revoked ones included."""
        ...

    async def update(self, key: ApiKey) -> None: ...


class AuditRepo(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...
    async def list(
        self, flt: AuditFilter = AuditFilter(), page: Page = Page()
    ) -> builtins.list[AuditEntry]:
        """Newest first."""
        ...


class WorkspaceRulesRepo(Protocol):
    """The workspace's own authorization rules: Cedar `forbid` text added to
    the base policy, so a workspace can only narrow what roles allow. The
    store keeps the text as given; checking it is the policy engine's job."""

    async def get(self) -> str:
        """The workspace's extra rules ('' when none)."""
        ...

    async def set(self, text: str, *, at: datetime, by: str) -> None:
        """Replace them (an empty text removes them)."""
        ...


class UnitOfWork(Protocol):
    """One transaction in one workspace. Leaving the context without
    `commit()` rolls back."""

    workspace_id: str
    projects: ProjectRepo
    manifests: ManifestRepo
    agents: AgentRepo
    tasks: TaskRepo
    runs: RunRepo
    events: EventRepo
    learning: LearningRepo
    schedules: ScheduleRepo
    approvals: ApprovalRepo
    memory: MemoryRepo
    mcp_servers: McpServerRepo
    skill_packs: SkillPackRepo
    skill_installations: SkillInstallationRepo
    idempotency: IdempotencyRepo
    outbox: OutboxRepo
    members: MembershipRepo
    api_keys: ApiKeyRepo
    audit: AuditRepo
    rules: WorkspaceRulesRepo
    budgets: BudgetRepo
    ledger: LedgerRepo
    prices: PriceRepo
    providers: ProviderRepo
    settings: SettingsRepo

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UserRepo(Protocol):
    async def add(self, user: User) -> None:
        """Raises Conflict if the e-mail address is taken."""
        ...

    async def get(self, user_id: str) -> User:
        """Raises NotFound."""
        ...

    async def by_email(self, email: str) -> User | None:
        """Case-insensitive."""
        ...

    async def list(self, page: Page = Page()) -> builtins.list[User]: ...
    async def update(self, user: User) -> None: ...


class RefreshTokenRepo(Protocol):
    async def add(self, token: RefreshToken) -> None: ...
    async def get(self, token_id: str) -> RefreshToken | None: ...
    async def update(self, token: RefreshToken) -> None: ...
    async def revoke_family(self, family_id: str, at: datetime) -> int:
        """Revoke every unrevoked token of the family; returns how many."""
        ...


class IdentityUnitOfWork(Protocol):
    """One transaction over identities, which live above workspaces.

    Signing in and checking a credential happen before the caller's
    workspace is known, so this unit of work is not bound to one: it finds
    users by e-mail, API keys by id (each key names its own workspace) and
    a user's memberships. Everything else stays in the scoped `UnitOfWork`.
    """

    users: UserRepo
    refresh_tokens: RefreshTokenRepo

    async def api_key(self, key_id: str) -> ApiKey | None: ...
    async def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record a use (last_used_at)."""
        ...

    async def memberships_of(self, user_id: str) -> builtins.list[Membership]: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class Store(Protocol):
    async def migrate(self) -> None:
        """Bring the schema up to date (runs on every start)."""
        ...

    def unit_of_work(self, workspace_id: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def identity(self) -> AbstractAsyncContextManager[IdentityUnitOfWork]: ...
    async def add_workspace(self, workspace: Workspace) -> None:
        """Raises Conflict if it exists."""
        ...

    async def get_workspace(self, workspace_id: str) -> Workspace:
        """Raises NotFound."""
        ...

    async def list_workspaces(self) -> list[Workspace]: ...
    async def delete_workspace(self, workspace_id: str) -> None:
        """Remove the workspace and every row it owns, in one transaction.

        Nothing of a deleted tenant may linger where a later workspace of
        the same id, or a credential check, could find it: its API keys,
        memberships and the refresh tokens that signed in to it go too.
        Users live above workspaces and stay. Raises NotFound.
        """
        ...

    async def outbox_pending(self, limit: int = 500) -> list[OutboxMessage]:
        """Unpublished outbox messages of every workspace, oldest first."""
        ...

    async def outbox_done(self, ids: Sequence[str]) -> None: ...
    async def release_expired_reservations(
        self, now: datetime, limit: int = 500
    ) -> list[Reservation]:
        """Release budget reservations of every workspace whose `expires_at` is
        past (their worker died before settling); returns what was released."""
        ...

    async def close(self) -> None: ...
