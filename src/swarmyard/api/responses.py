"""Small helpers shared by the routers: JSON bodies, paging, idempotent mutations."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from ..domain import DomainError, Principal
from ..runtime.wiring import Container
from ..services.audit import record_audit
from ..services.idempotency import IdempotencyGuard, request_hash
from .context import caller_ip

__all__ = ["MAX_LIMIT", "idempotent", "json_response", "page_of"]


async def _audit(
    request: Request,
    c: Container,
    workspace_id: str,
    action: str,
    *,
    ident: str | None,
    result: str,
) -> None:
    principal: Principal | None = getattr(request.state, "principal", None)
    kind = action.split(".", 1)[0]
    resource = f"{kind}:{ident}" if ident else request.url.path
    async with c.store.unit_of_work(workspace_id) as uow:
        await record_audit(
            uow,
            c.deps,
            actor=principal.actor if principal else "anonymous",
            action=action,
            resource=resource,
            result=result,
            ip=caller_ip(request),
        )
        await uow.commit()


MAX_LIMIT = 500


def _dump(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(_dump(body), status_code=status, media_type="application/json")


def page_of(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """`items` were fetched with ``limit + 1``: the extra row only says another page exists."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": items[-1]["id"] if more and items else None}


async def idempotent(
    request: Request,
    container: Container,
    workspace_id: str,
    produce: Callable[[], Awaitable[tuple[int, Any]]],
    *,
    audit: str | None = None,
    ident: str | None = None,
) -> Response:
    """Run a mutation once per `Idempotency-Key` (when the client sends one).

    `audit` names the action to record in the audit log with its outcome;
    the resource is `ident` when given (objects known by what they are for,
    like a budget, whose answer has no id), else the created object's id,
    else the request's path.
    """

    async def encoded() -> tuple[int, bytes]:
        try:
            status, body = await produce()
        except DomainError as exc:
            if audit:
                await _audit(
                    request,
                    container,
                    workspace_id,
                    audit,
                    ident=ident,
                    result=f"failed: {exc.code}",
                )
            raise
        if audit:
            made = body.get("id") if isinstance(body, dict) else None
            await _audit(request, container, workspace_id, audit, ident=ident or made, result="ok")
        return status, _dump(body) if body is not None else b""

    key = request.headers.get("idempotency-key")
    if not key:
        status, body = await encoded()
    else:
        fingerprint = request_hash(request.method, request.url.path, await request.body())
        status, body = await IdempotencyGuard(container.deps).run(
            workspace_id, key, fingerprint, encoded
        )
    if status == 204:
        return Response(status_code=204)
    return Response(body, status_code=status, media_type="application/json")
