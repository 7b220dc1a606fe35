"""Agent manifests: the marketplace entries agents are installed from.

A manifest is data (the 13 built-in roles ship as TOML files in
`swarmyard/catalog/manifests/`). This module holds its schema and the
semantic rules pydantic alone cannot express; `catalog.loader` turns both
kinds of failure into one list of problems with field paths.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .task_types import TASK_TYPES

__all__ = [
    "AgentManifest",
    "Capability",
    "Complexity",
    "Dependency",
    "HealthCheck",
    "ModelPreference",
    "ModelTier",
    "parse_version",
]

_SLUG = r"^[a-z][a-z0-9-]{1,62}$"
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; raises ValueError naming the bad text."""
    m = _SEMVER.match(version)
    if not m:
        raise ValueError(f"{version!r} is not a MAJOR.MINOR.PATCH version")
    return int(m[1]), int(m[2]), int(m[3])


class Complexity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _COMPLEXITY_RANK[self]


_COMPLEXITY_RANK = {c: i for i, c in enumerate(Complexity)}


class ModelTier(StrEnum):
    """How capable (and costly) a model a role prefers."""

    FAST = "fast"
    MID = "mid"
    PREMIUM = "premium"


def _known_task_type(value: str) -> str:
    if value not in TASK_TYPES:
        raise ValueError(f"unknown task type {value!r}; known types: {', '.join(TASK_TYPES)}")
    return value


def _semver(value: str) -> str:
    parse_version(value)
    return value


TaskType = Annotated[str, AfterValidator(_known_task_type)]
Version = Annotated[str, AfterValidator(_semver)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Capability(_Strict):
    id: str = Field(pattern=_SLUG)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    # The most complex work of this kind the agent is fit for.
    complexity: Complexity = Complexity.HIGH
    # Task types this capability lets the agent take without a required role.
    task_types: list[TaskType] = Field(default_factory=list)


class Dependency(_Strict):
    """Another installed agent this one needs: by role or by manifest id."""

    role: str | None = Field(default=None, pattern=_SLUG)
    agent: str | None = Field(default=None, pattern=_SLUG)
    min_version: Version | None = None
    optional: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> Dependency:
        if (self.role is None) == (self.agent is None):
            raise ValueError("give exactly one of 'role' or 'agent'")
        return self

    @property
    def target(self) -> str:
        return self.role or self.agent or ""


class ModelPreference(_Strict):
    tier: ModelTier = ModelTier.MID
    preferred: list[str] = Field(default_factory=list)


class HealthCheck(_Strict):
    interval_seconds: int = Field(default=30, ge=1, le=3600)
    timeout_seconds: int = Field(default=10, ge=1, le=600)
    failure_threshold: int = Field(default=3, ge=1, le=100)
    auto_restart: bool = True


class AgentManifest(_Strict):
    id: str = Field(pattern=_SLUG)
    name: str = Field(min_length=1, max_length=100)
    version: Version
    role: str = Field(pattern=_SLUG)
    description: str = Field(default="", max_length=4000)
    capabilities: list[Capability] = Field(min_length=1)
    skills: list[str] = Field(default_factory=list)
    model: ModelPreference = Field(default_factory=ModelPreference)
    allowed_tools: list[str] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    system_prompt: str = Field(min_length=1, max_length=20000)
    max_concurrent_tasks: int = Field(default=1, ge=1, le=1000)
    max_steps: int = Field(default=20, ge=1, le=500)
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    builtin: bool = False

    # Field validators rather than one model validator: each problem then
    # carries its field's path and is reported with every other mistake,
    # instead of only once all the fields are valid.
    @field_validator("capabilities")
    @classmethod
    def _unique_capability_ids(cls, v: list[Capability]) -> list[Capability]:
        ids = [c.id for c in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"capability ids repeat: {', '.join(dupes)}")
        return v

    @field_validator("dependencies")
    @classmethod
    def _not_on_itself(cls, v: list[Dependency], info: ValidationInfo) -> list[Dependency]:
        # id and role are declared earlier, so they are in info.data when valid.
        own_role, own_id = info.data.get("role"), info.data.get("id")
        for dep in v:
            if (dep.role is not None and dep.role == own_role) or (
                dep.agent is not None and dep.agent == own_id
            ):
                raise ValueError("a manifest cannot depend on itself")
        return v

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @property
    def task_types(self) -> set[str]:
        return {t for c in self.capabilities for t in c.task_types}

    def capability_for(self, task_type: str) -> Capability | None:
        """The first (primary-first) capability that covers `task_type`."""
        for cap in self.capabilities:
            if task_type in cap.task_types:
                return cap
        return None
