"""Request bodies. Unknown fields are refused (`extra="forbid"`) so nobody can
set `workspace_id`, `status` on creation of an agent, or similar by
sending more than the endpoint takes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..domain.manifest import Version
from ..domain.skill import check_roles

__all__ = [
    "AgentCreate",
    "AgentPatch",
    "ApiKeyCreate",
    "BudgetPut",
    "MemberAdd",
    "MemberPatch",
    "ProjectCreate",
    "ProjectPatch",
    "RefreshRequest",
    "ScheduleCreate",
    "SchedulePatch",
    "SkillInstallCreate",
    "SkillInstallPatch",
    "TaskCreate",
    "TaskPatch",
    "TokenRequest",
    "WorkspaceCreate",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentCreate(_Body):
    manifest: str = Field(min_length=1, max_length=64)
    version: str | None = None
    replicas: int = Field(default=1, ge=1, le=100)
    name: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    )


class AgentPatch(_Body):
    replicas: int | None = Field(default=None, ge=1, le=100)
    status: str | None = None


class ProjectCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    workdir: str | None = Field(default=None, max_length=4096)


class ProjectPatch(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    workdir: str | None = Field(default=None, max_length=4096)


class TaskCreate(_Body):
    title: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=40)
    description: str = Field(default="", max_length=50_000)
    priority: str = "normal"
    complexity: str = "medium"
    required_role: str | None = Field(default=None, max_length=64)
    required_capabilities: list[str] = Field(default_factory=list, max_length=20)
    depends_on: list[str] = Field(default_factory=list, max_length=100)
    project_id: str | None = None
    status: str = "todo"
    review_required: bool = False
    max_attempts: int = Field(default=2, ge=1, le=10)


class TaskPatch(_Body):
    status: str | None = None
    depends_on: list[str] | None = Field(default=None, max_length=100)


class ScheduleCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    cron: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"
    task: dict[str, Any]
    missed: str = "skip"
    enabled: bool = True


class SchedulePatch(_Body):
    enabled: bool | None = None


class TokenRequest(_Body):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    workspace: str | None = Field(default=None, max_length=64)


class RefreshRequest(_Body):
    refresh_token: str = Field(min_length=1, max_length=512)


class WorkspaceCreate(_Body):
    id: str = Field(min_length=2, max_length=63)
    name: str = Field(default="", max_length=200)


class MemberAdd(_Body):
    email: str = Field(min_length=3, max_length=320)
    role: str = "member"
    name: str = Field(default="", max_length=200)
    # Given: create the user if nobody has this address yet (direct add by an admin).
    password: str | None = Field(default=None, max_length=1024)


class MemberPatch(_Body):
    role: str


class ApiKeyCreate(_Body):
    name: str = Field(min_length=1, max_length=100)
    role: str = "member"
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class BudgetPut(_Body):
    """Limits in whole cents; the service checks the scope and the ranges and
    names every problem at once."""

    scope: str = Field(min_length=1, max_length=20)
    scope_id: str = Field(default="", max_length=200)
    monthly_cents: int | None = None
    weekly_cents: int | None = None
    on_exceed: str = Field(default="fallback", max_length=20)


_Roles = Annotated[list[str], Field(max_length=50), AfterValidator(check_roles)]


class SkillInstallCreate(_Body):
    pack: str = Field(min_length=1, max_length=64)
    version: Version | None = None  # None follows the latest version
    roles: _Roles | None = None  # None keeps the pack's own roles
    enabled: bool = True


class SkillInstallPatch(_Body):
    """Only the fields sent change: `version` null follows the latest again,
    `roles` null goes back to the pack's own."""

    version: Version | None = None
    roles: _Roles | None = None
    enabled: bool | None = None
