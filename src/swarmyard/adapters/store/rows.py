"""Entity <-> row mapping, shared by the SQL and the in-memory adapters.

Column names equal the dataclass field names, so one codec per entity says
how each field is written and read back. Both adapters going through the
same codecs is what keeps their answers identical (enum validation, the
priority rank, timezone handling).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from swarmyard.domain import (
    Agent,
    AgentHealth,
    AgentManifest,
    AgentStatus,
    ApiKey,
    Approval,
    ApprovalStatus,
    AuditEntry,
    Complexity,
    EventType,
    Execution,
    LearningProfile,
    Membership,
    MemoryItem,
    MemoryKind,
    MissedTicks,
    Priority,
    Project,
    RefreshToken,
    Role,
    Run,
    RunEvent,
    RunStatus,
    Schedule,
    Task,
    TaskStatus,
    User,
    Workspace,
)
from swarmyard.ports import IdempotentResponse, OutboxMessage

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "AGENTS",
    "API_KEYS",
    "APPROVALS",
    "AUDIT",
    "EVENTS",
    "EXECUTIONS",
    "IDEMPOTENCY",
    "MEMBERSHIPS",
    "MEMORY_ITEMS",
    "OUTBOX",
    "PROFILES",
    "PROJECTS",
    "REFRESH_TOKENS",
    "RUNS",
    "SCHEDULES",
    "TASKS",
    "USERS",
    "WORKSPACES",
    "Codec",
    "as_utc",
    "manifest_from_row",
    "manifest_row",
    "owned_row",
    "priority_from_rank",
]

E = TypeVar("E", bound="DataclassInstance")
Row = dict[str, Any]
_Convert = Callable[[Any], Any]


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused rather than guessed at."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}: the store keeps timezone-aware UTC")
    return value.astimezone(UTC)


_BY_RANK = {p.rank: p for p in Priority}


def priority_from_rank(rank: int) -> Priority:
    return _BY_RANK[rank]


def _enum(cls: type[StrEnum]) -> tuple[_Convert, _Convert]:
    # Encoding through the enum refuses a misspelt status before it reaches a row.
    return (lambda v: cls(v).value), cls


class Codec(Generic[E]):
    """How one entity becomes a row and back.

    `json` and `times` name the fields stored as JSON and as timestamps;
    the in-memory adapter uses them to store exactly what a database would.
    """

    def __init__(
        self,
        cls: type[E],
        *,
        json: Iterable[str] = (),
        times: Iterable[str] = (),
        convert: Mapping[str, tuple[_Convert, _Convert]] | None = None,
        transient: Iterable[str] = (),
    ) -> None:
        self.cls = cls
        # Transient fields are never stored: a decoded object gets their default.
        skipped = frozenset(transient)
        self.names = tuple(f.name for f in fields(cls) if f.name not in skipped)
        self.json = frozenset(json)
        self.times = frozenset(times)
        converters = dict(convert or {})
        self._encoders = {k: enc for k, (enc, _) in converters.items()}
        self._decoders = {k: dec for k, (_, dec) in converters.items()}

    def encode(self, obj: E) -> Row:
        row = {name: getattr(obj, name) for name in self.names}
        for name, enc in self._encoders.items():
            row[name] = enc(row[name])
        for name in self.times:
            if row[name] is not None:
                row[name] = as_utc(row[name])
        return row

    def decode(self, row: Mapping[Any, Any]) -> E:
        values = {name: row[name] for name in self.names}
        for name, dec in self._decoders.items():
            values[name] = dec(values[name])
        return self.cls(**values)


def owned_row(codec: Codec[E], obj: E, workspace_id: str) -> Row:
    """The row of an object added through a unit of work of `workspace_id`."""
    row = codec.encode(obj)
    stated = row.get("workspace_id", workspace_id)
    if stated != workspace_id:
        # A caller bug, not a user's mistake: it must never write across tenants.
        raise ValueError(
            f"{type(obj).__name__} of workspace {stated!r} added in a unit of work "
            f"of workspace {workspace_id!r}"
        )
    row["workspace_id"] = workspace_id
    return row


WORKSPACES = Codec(Workspace, times=("created_at",))
PROJECTS = Codec(Project, times=("created_at", "updated_at"))
AGENTS = Codec(
    Agent,
    times=("created_at", "started_at", "updated_at"),
    convert={"status": _enum(AgentStatus), "health": _enum(AgentHealth)},
)
TASKS = Codec(
    Task,
    json=("required_capabilities", "depends_on", "labels"),
    times=("created_at", "updated_at", "finished_at"),
    convert={
        "status": _enum(TaskStatus),
        "complexity": _enum(Complexity),
        # Stored as its rank so that "urgent first" is a plain ORDER BY.
        "priority": (lambda p: Priority(p).rank, priority_from_rank),
    },
)
RUNS = Codec(
    Run,
    json=("assignment",),
    times=("created_at", "lease_expires_at", "started_at", "finished_at"),
    convert={"status": _enum(RunStatus)},
)
EVENTS = Codec(RunEvent, json=("payload",), times=("at",), convert={"type": _enum(EventType)})
EXECUTIONS = Codec(Execution, times=("finished_at",))
PROFILES = Codec(LearningProfile, times=("updated_at",))
SCHEDULES = Codec(
    Schedule,
    json=("template",),
    times=("next_run_at", "created_at", "last_run_at", "updated_at"),
    convert={"missed": _enum(MissedTicks)},
)
APPROVALS = Codec(
    Approval,
    json=("args",),
    times=("requested_at", "deadline", "decided_at"),
    convert={"status": _enum(ApprovalStatus)},
)
IDEMPOTENCY = Codec(IdempotentResponse, times=("created_at",))
# `stored` says whether a row was written at all: every stored row is.
OUTBOX = Codec(OutboxMessage, times=("created_at",), transient=("stored",))
# E-mail addresses are stored lower-cased, so equality is the case-insensitive
# match and the unique constraint sees "A@x" and "a@x" as one address.
USERS = Codec(User, times=("created_at",), convert={"email": (lambda e: str(e).lower(), str)})
MEMBERSHIPS = Codec(Membership, times=("created_at",), convert={"role": _enum(Role)})
API_KEYS = Codec(
    ApiKey,
    times=("created_at", "expires_at", "revoked_at", "last_used_at"),
    convert={"role": _enum(Role)},
)
REFRESH_TOKENS = Codec(RefreshToken, times=("created_at", "expires_at", "used_at", "revoked_at"))
AUDIT = Codec(AuditEntry, json=("details",), times=("at",))
MEMORY_ITEMS = Codec(
    MemoryItem,
    json=("tags",),
    times=("created_at", "expires_at"),
    convert={"kind": _enum(MemoryKind)},
)


def manifest_row(workspace_id: str, manifest: AgentManifest) -> Row:
    return {
        "workspace_id": workspace_id,
        "id": manifest.id,
        "version": manifest.version,
        "role": manifest.role,
        "data": manifest.model_dump(mode="json"),
    }


def manifest_from_row(row: Mapping[Any, Any]) -> AgentManifest:
    return AgentManifest.model_validate(row["data"])


# Columns an update never rewrites: identity, tenancy, birth.
BIRTH_COLUMNS = ("id", "workspace_id", "created_at")


# Agent columns only atomic operations write (never a read-modify-write update).
AGENT_COUNTERS = (
    "running",
    "tasks_succeeded",
    "tasks_failed",
    "tokens_in",
    "tokens_out",
    "cost_microusd",
    "errors",
    "consecutive_failures",
)


def updatable(row: Row, *also_fixed: str) -> Row:
    """The columns of `row` an update may write (both adapters use this one rule)."""
    return {k: v for k, v in row.items() if k not in BIRTH_COLUMNS and k not in also_fixed}
