"""A workspace's policies: stored, validated, and folded for a run.

A workspace has few policies and changes them rarely, while every run start
and every tool call reads them; so they are kept as one document of the
workspace (the settings store, like the routing rules), and each process
keeps the parsed list for a few seconds. The process that changes them
forgets its copy at once; others catch up within the time-to-live.
"""

from __future__ import annotations

import builtins
import functools
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..catalog._problems import validation_problems
from ..domain import Conflict, NotFound, Problem, ValidationFailed
from ..domain.policy import (
    EffectivePolicy,
    Policy,
    PolicyScope,
    UntrustedEgress,
    effective_policy,
    validate_policy,
)
from .deps import Deps
from .views import microusd_to_usd
from .workspace_cache import WorkspaceCache

__all__ = ["DOCUMENT", "PolicyBody", "PolicyService", "policy_view"]

DOCUMENT = "policies"
MAX_POLICIES = 200


class PolicyBody(BaseModel):
    """A policy as the API takes it (money in dollars, as people think of it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    scope: Literal["workspace", "role", "agent"] = "workspace"
    scope_id: str = Field(default="", max_length=200)
    enabled: bool = True
    allowed_tools: list[str] | None = Field(default=None, max_length=200)
    denied_tools: list[str] = Field(default_factory=list, max_length=200)
    approval_tools: list[str] = Field(default_factory=list, max_length=200)
    sandbox_required: bool = False
    allow_unsandboxed: bool = False
    max_cost_usd_per_run: float | None = Field(default=None, ge=0, le=1_000_000)
    max_steps: int | None = None
    max_delegation_depth: int | None = None
    features: dict[str, bool] = Field(default_factory=dict)
    untrusted_egress: Literal["approve", "deny", "allow"] = "approve"
    approval_timeout_seconds: int = 3600


def policy_view(p: Policy) -> dict[str, Any]:
    cost = p.max_cost_microusd_per_run
    return {
        "name": p.name,
        "scope": p.scope.value,
        "scope_id": p.scope_id,
        "enabled": p.enabled,
        "allowed_tools": p.allowed_tools,
        "denied_tools": p.denied_tools,
        "approval_tools": p.approval_tools,
        "sandbox_required": p.sandbox_required,
        "allow_unsandboxed": p.allow_unsandboxed,
        "max_cost_usd_per_run": None if cost is None else microusd_to_usd(cost),
        "max_steps": p.max_steps,
        "max_delegation_depth": p.max_delegation_depth,
        "features": p.features,
        "untrusted_egress": p.untrusted_egress.value,
        "approval_timeout_seconds": p.approval_timeout_seconds,
        "created_at": p.created_at.isoformat() if p.created_at else None,
        "updated_at": p.updated_at.isoformat() if p.updated_at else None,
        "updated_by": p.updated_by,
    }


def _stored(p: Policy) -> dict[str, Any]:
    view = policy_view(p)
    view["max_cost_microusd_per_run"] = p.max_cost_microusd_per_run
    del view["max_cost_usd_per_run"]
    return view


def _from_stored(workspace_id: str, raw: dict[str, Any]) -> Policy:
    def when(key: str) -> datetime | None:
        value = raw.get(key)
        return datetime.fromisoformat(value) if value else None

    return Policy(
        id=f"policy:{raw['name']}",
        workspace_id=workspace_id,
        name=raw["name"],
        scope=PolicyScope(raw["scope"]),
        scope_id=raw["scope_id"],
        enabled=raw["enabled"],
        allowed_tools=raw["allowed_tools"],
        denied_tools=list(raw["denied_tools"]),
        approval_tools=list(raw["approval_tools"]),
        sandbox_required=raw["sandbox_required"],
        allow_unsandboxed=raw["allow_unsandboxed"],
        max_cost_microusd_per_run=raw["max_cost_microusd_per_run"],
        max_steps=raw["max_steps"],
        max_delegation_depth=raw["max_delegation_depth"],
        features=dict(raw["features"]),
        untrusted_egress=UntrustedEgress(raw["untrusted_egress"]),
        approval_timeout_seconds=raw["approval_timeout_seconds"],
        created_at=when("created_at"),
        updated_at=when("updated_at"),
        updated_by=raw.get("updated_by", ""),
    )


def parse_policy(workspace_id: str, body: Any) -> Policy:
    """The policy a request body describes; 422 naming every problem."""
    if not isinstance(body, dict):
        raise ValidationFailed("policy", [Problem("", "must be a JSON object")])
    try:
        doc = PolicyBody.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed("policy", validation_problems(exc, PolicyBody)) from None
    cost = doc.max_cost_usd_per_run
    policy = Policy(
        id=f"policy:{doc.name}",
        workspace_id=workspace_id,
        name=doc.name,
        scope=PolicyScope(doc.scope),
        scope_id=doc.scope_id,
        enabled=doc.enabled,
        allowed_tools=doc.allowed_tools,
        denied_tools=doc.denied_tools,
        approval_tools=doc.approval_tools,
        sandbox_required=doc.sandbox_required,
        allow_unsandboxed=doc.allow_unsandboxed,
        max_cost_microusd_per_run=None if cost is None else round(cost * 1_000_000),
        max_steps=doc.max_steps,
        max_delegation_depth=doc.max_delegation_depth,
        features=doc.features,
        untrusted_egress=UntrustedEgress(doc.untrusted_egress),
        approval_timeout_seconds=doc.approval_timeout_seconds,
    )
    validate_policy(policy)
    return policy


class PolicyService:
    def __init__(self, deps: Deps, *, ttl_seconds: float = 5.0) -> None:
        self._d = deps
        self._cache: WorkspaceCache[list[Policy]] = WorkspaceCache(ttl_seconds)

    async def list(self, workspace_id: str) -> list[Policy]:
        return await self._cache.get(workspace_id, functools.partial(self._read, workspace_id))

    async def _read(self, workspace_id: str) -> builtins.list[Policy]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            raw = await uow.settings.get(DOCUMENT) or []
        return [_from_stored(workspace_id, r) for r in raw]

    async def get(self, workspace_id: str, name: str) -> Policy:
        found = next((p for p in await self.list(workspace_id) if p.name == name), None)
        if found is None:
            raise NotFound("policy", name)
        return found

    async def effective(
        self, workspace_id: str, role: str, agent_id: str | None
    ) -> EffectivePolicy:
        return effective_policy(await self.list(workspace_id), role=role, agent_id=agent_id)

    async def put(self, workspace_id: str, body: Any, *, by: str, create: bool) -> Policy:
        """Create (`create`: 409 if the name is taken) or replace a policy."""
        policy = parse_policy(workspace_id, body)
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            raw: list[dict[str, Any]] = list(await uow.settings.get(DOCUMENT) or [])
            old = next((r for r in raw if r["name"] == policy.name), None)
            if old is not None and create:
                raise Conflict(
                    f"a policy named {policy.name!r} exists; PUT /policies/{policy.name} "
                    "replaces it",
                    details={"name": policy.name},
                )
            if old is None and len(raw) >= MAX_POLICIES:
                raise ValidationFailed(
                    "policy", [Problem("name", f"a workspace has at most {MAX_POLICIES} policies")]
                )
            policy.created_at = _from_stored(workspace_id, old).created_at if old else now
            policy.updated_at, policy.updated_by = now, by
            kept = [r for r in raw if r["name"] != policy.name]
            kept.append(_stored(policy))
            kept.sort(key=lambda r: r["name"])
            await uow.settings.put(DOCUMENT, kept, at=now, by=by)
            await uow.commit()
        self._cache.forget(workspace_id)
        return policy

    async def delete(self, workspace_id: str, name: str, *, by: str) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            raw: list[dict[str, Any]] = list(await uow.settings.get(DOCUMENT) or [])
            kept = [r for r in raw if r["name"] != name]
            if len(kept) == len(raw):
                raise NotFound("policy", name)
            await uow.settings.put(DOCUMENT, kept, at=self._d.clock.now(), by=by)
            await uow.commit()
        self._cache.forget(workspace_id)
