"""/providers: the LLM endpoints a workspace registers for itself.

The body is a provider as the platform file describes one (`name`, `kind`,
`base_url`, `models`, ...) plus an optional `api_key`. The key is
write-only: the service seals it before it reaches the store, and no answer
ever carries it — a listing says only whether one is stored (`key`).
Providers of the platform file and the built-in offline model are listed
too (`origin`), but cannot be replaced or removed here (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...domain import Conflict, NotFound, Principal, Problem, ValidationFailed
from ...runtime.wiring import Container
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["providers"])

# Far beyond any vendor's key; a longer value is a pasted file, not a key.
_MAX_KEY_CHARS = 4096


@router.get("/providers")
async def list_providers(
    c: ContainerDep, p: Annotated[Principal, acting("provider.read")]
) -> Response:
    views = await c.model_admin.providers(p.workspace_id)
    return json_response({"items": [v.as_dict() for v in views]})


@router.post("/providers", status_code=201)
async def add_provider(
    request: Request,
    body: Annotated[dict[str, Any], Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("provider.write")],
) -> Response:
    ws = p.workspace_id
    spec, key = _split_key(body)

    async def produce() -> tuple[int, Any]:
        # The service's put is an upsert; a POST that silently replaced a
        # provider (keeping its key) would surprise whoever sent it.
        if await _origin(c, ws, spec.get("name")) == "api":
            raise Conflict(
                f"provider {spec['name']!r} is already registered; "
                f"PUT /providers/{spec['name']} replaces it"
            )
        view = await c.model_admin.put_provider(ws, spec, api_key=key, by=p.actor)
        return 201, view.as_dict()

    name = spec.get("name")
    return await idempotent(
        request,
        c,
        ws,
        produce,
        audit="provider.write",
        ident=name if isinstance(name, str) else None,
    )


@router.put("/providers/{name}")
async def replace_provider(
    request: Request,
    name: str,
    body: Annotated[dict[str, Any], Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("provider.write")],
) -> Response:
    """Replace a provider registered through the API. Without `api_key` the
    stored key is kept, so changing a model list needs no key at hand."""
    ws = p.workspace_id
    spec, key = _split_key(body)
    if spec.setdefault("name", name) != name:
        raise ValidationFailed(
            "provider", [Problem("name", f"the body names {spec['name']!r}, the path {name!r}")]
        )

    async def produce() -> tuple[int, Any]:
        if await _origin(c, ws, name) is None:
            raise NotFound("provider", name)
        view = await c.model_admin.put_provider(ws, spec, api_key=key, by=p.actor)
        return 200, view.as_dict()

    return await idempotent(request, c, ws, produce, audit="provider.write", ident=name)


@router.delete("/providers/{name}", status_code=204)
async def delete_provider(
    request: Request,
    name: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("provider.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.model_admin.delete_provider(ws, name)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="provider.write", ident=name)


async def _origin(c: Container, ws: str, name: object) -> str | None:
    """Where the provider of that name comes from ("api", "file", "builtin"), if any."""
    views = await c.model_admin.providers(ws)
    return next((v.origin for v in views if v.spec.name == name), None)


def _split_key(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The spec and the key apart. A bad key is named without being quoted."""
    spec = dict(body)
    key = spec.pop("api_key", None)
    if key is None:
        return spec, None
    if not isinstance(key, str) or not key.strip():
        reason = "must be a non-empty string (leave it out to keep the stored key)"
    elif len(key) > _MAX_KEY_CHARS or not key.isprintable():
        reason = f"must be at most {_MAX_KEY_CHARS} printable characters"
    else:
        return spec, key.strip()
    raise ValidationFailed("provider", [Problem("api_key", reason)])
