"""Who acts: users, their memberships in workspaces, API keys, refresh tokens,
and the audit trail of what they did.

A *principal* is the identity a request carries once its credentials are
checked: a user acting in one workspace with their membership's role, or an
API key with the workspace and role it was issued for. Authorization only
ever sees principals, never raw credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Membership",
    "Principal",
    "RefreshToken",
    "Role",
    "User",
]


class Role(StrEnum):
    """Workspace roles, from most to least powerful."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.OWNER: 3, Role.ADMIN: 2, Role.MEMBER: 1, Role.VIEWER: 0}


@dataclass(slots=True)
class User:
    id: str
    email: str  # stored lower-case; unique
    name: str
    password_hash: str  # argon2id
    created_at: datetime
    disabled: bool = False


@dataclass(slots=True)
class Membership:
    workspace_id: str
    user_id: str
    role: Role
    created_at: datetime


@dataclass(slots=True)
class ApiKey:
    """A key is shown once as ``sy_<id>_<secret>``; only a hash of the secret is kept."""

    id: str
    workspace_id: str
    name: str
    role: Role
    secret_hash: str  # sha256 hex of the secret (the secret is 256 random bits)
    created_at: datetime
    created_by: str | None = None  # user or key id
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(slots=True)
class RefreshToken:
    """One link of a rotation chain. Every refresh spends the token and issues
    the next one in the same family; presenting a spent token again means it
    was stolen, and the whole family is revoked."""

    id: str
    user_id: str
    family_id: str
    token_hash: str  # sha256 hex of the token's secret
    created_at: datetime
    expires_at: datetime
    workspace_id: str | None = None  # the workspace the session signed in to
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller acting in one workspace."""

    kind: str  # "user" | "api_key"
    id: str  # user id or key id
    workspace_id: str
    role: Role
    name: str = ""

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    workspace_id: str
    actor: str  # "user:<id>", "api_key:<id>", "system", or "anonymous"
    action: str  # e.g. "auth.sign_in", "task.create"
    resource: str  # e.g. "task:task_01…"
    result: str  # "ok" | "denied" | "failed"
    at: datetime
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
