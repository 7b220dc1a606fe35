"""/healthz and /readyz (outside /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ... import __version__
from ..context import ContainerDep
from ..responses import json_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(c: ContainerDep) -> Response:
    mode = "embedded" if c.settings.embedded_bus else "cluster"
    return json_response({"status": "ok", "version": __version__, "mode": mode})


@router.get("/readyz")
async def readyz(c: ContainerDep) -> Response:
    try:
        await c.store.list_workspaces()
    except Exception as exc:
        return json_response({"status": "unavailable", "reason": type(exc).__name__}, 503)
    return json_response({"status": "ready"})
