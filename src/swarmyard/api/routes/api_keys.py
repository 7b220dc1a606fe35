"""/api-keys: keys for scripts and the CLI, shown once, stored hashed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from ...domain import ApiKey, Principal
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response
from ..schemas import ApiKeyCreate

router = APIRouter(tags=["api-keys"])


def key_view(k: ApiKey) -> dict[str, Any]:
    def iso(v: Any) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": k.id,
        "name": k.name,
        "role": k.role.value,
        "created_by": k.created_by,
        "created_at": iso(k.created_at),
        "expires_at": iso(k.expires_at),
        "revoked_at": iso(k.revoked_at),
        "last_used_at": iso(k.last_used_at),
    }


@router.get("/api-keys")
async def list_keys(c: ContainerDep, p: Annotated[Principal, acting("apikey.read")]) -> Response:
    items = [key_view(k) for k in await c.identity.keys(p.workspace_id)]
    return json_response({"items": items, "next_cursor": None})


@router.post("/api-keys", status_code=201)
async def create_key(
    request: Request,
    body: ApiKeyCreate,
    c: ContainerDep,
    p: Annotated[Principal, acting("apikey.manage")],
) -> Response:
    async def produce() -> tuple[int, Any]:
        key, plaintext = await c.identity.create_key(
            p, name=body.name, role=body.role, expires_in_days=body.expires_in_days
        )
        return 201, {**key_view(key), "key": plaintext}

    return await idempotent(request, c, p.workspace_id, produce)


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_key(
    key_id: str, c: ContainerDep, p: Annotated[Principal, acting("apikey.manage")]
) -> Response:
    await c.identity.revoke_key(p, key_id)
    await c.announce_revocation(p.workspace_id, key_id)
    return Response(status_code=204)
