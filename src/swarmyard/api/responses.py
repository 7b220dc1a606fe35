"""Small helpers shared by the routers: JSON bodies, paging, idempotent mutations."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from ..runtime.wiring import Container
from ..services.idempotency import IdempotencyGuard, request_hash

__all__ = ["MAX_LIMIT", "idempotent", "json_response", "page_of"]

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
) -> Response:
    """Run a mutation once per `Idempotency-Key` (when the client sends one)."""

    async def encoded() -> tuple[int, bytes]:
        status, body = await produce()
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
