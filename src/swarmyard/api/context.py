"""Per-request context: the container, and the authenticated, authorized caller.

Every route names the action it performs (`acting("task.create")`); the
dependency authenticates the bearer credential, resolves the workspace the
caller acts in, and asks `authz.authorize` — once, here, not in each route.
Handlers get a `Principal` and use its `workspace_id`; the data layer scopes
every query by it, so another workspace's object is simply not found.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from ..authz import authorize
from ..domain import DomainError, Principal
from ..runtime.wiring import Container
from ..services.auth import NotAuthenticated
from .hardening import client_ip

__all__ = [
    "ContainerDep",
    "Forbidden",
    "acting",
    "authenticated",
    "caller_ip",
    "ensure",
    "get_container",
]


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


def caller_ip(request: Request) -> str | None:
    """The address the audit log records: the same one the rate limiter counts."""
    container: Container = request.app.state.container
    return client_ip(request.scope, trust_forwarded=container.settings.trust_forwarded)


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def authenticated(
    request: Request,
    container: ContainerDep,
    authorization: Annotated[str | None, Header()] = None,
    x_swarmyard_workspace: Annotated[str | None, Header()] = None,
) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise NotAuthenticated(
            "send 'Authorization: Bearer <access token or API key>' "
            "(sign in at POST /api/v1/auth/token)"
        )
    principal = await container.auth.authenticate(credential.strip(), x_swarmyard_workspace)
    limits = getattr(request.app.state, "limits", None)
    if limits is not None:
        limits.check_principal(principal.actor)
    request.state.principal = principal
    return principal


async def ensure(container: Container, principal: Principal, action: str) -> None:
    """Refuse (403) unless the role matrix and the workspace's own rules allow
    `action` in the principal's workspace."""
    rules = await container.rules.get(principal.workspace_id)
    decision = authorize(principal, action, workspace_rules=rules)
    if not decision.allowed:
        raise Forbidden(
            f"your role ({principal.role.value}) may not {action}",
            details={"action": action, "role": principal.role.value, "reason": decision.reason},
        )


def acting(action: str) -> Any:
    """Dependency: the caller, authenticated and allowed to perform `action`."""

    async def dependency(
        container: ContainerDep, principal: Annotated[Principal, Depends(authenticated)]
    ) -> Principal:
        await ensure(container, principal, action)
        return principal

    return Depends(dependency)
