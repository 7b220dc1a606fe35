"""/skills and /skill-installations: skill packs (tools plus instructions) and
the packs a workspace installed.

The catalogue is the built-in packs and the workspace's own, every version
kept; publishing takes a pack as JSON, like POST /catalog takes a manifest.
An installation is known by its pack's id (a workspace installs a pack
once); it follows the latest version unless pinned. Viewers read, admins
publish and install.
"""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...catalog import parse_skill_pack
from ...domain import Principal, Problem, ValidationFailed
from ...services.skills import (
    KEEP,
    installation_view,
    skill_pack_view,
    skill_summary_view,
)
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response
from ..schemas import SkillInstallCreate, SkillInstallPatch

router = APIRouter(tags=["skills"])


@router.get("/skills")
async def list_skills(c: ContainerDep, p: Annotated[Principal, acting("skill.read")]) -> Response:
    """Every pack (its latest version, with the list of all versions)."""
    ws = p.workspace_id
    packs = await c.skills.catalogue(ws)
    installed = {i.pack_id: i for i, _ in await c.skills.installations(ws)}
    # The catalogue comes grouped by id (built-in first), versions in order.
    items = [
        skill_summary_view(list(versions), installed.get(pack_id))
        for pack_id, versions in groupby(packs, key=lambda pack: pack.id)
    ]
    return json_response({"items": items, "next_cursor": None})


@router.get("/skills/{pack_id}")
async def show_skill(
    pack_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("skill.read")],
    version: str | None = None,
) -> Response:
    """Every version of one pack, oldest first; with `version`, only that one."""
    ws = p.workspace_id
    if version is not None:
        return json_response(skill_pack_view(await c.skills.get(ws, pack_id, version)))
    versions = await c.skills.versions(ws, pack_id)
    return json_response(
        {
            "id": pack_id,
            "builtin": c.skills.is_builtin(pack_id),
            "latest": versions[-1].version,
            "versions": [skill_pack_view(v) for v in versions],
        }
    )


@router.post("/skills", status_code=201)
async def publish_skill(
    request: Request,
    body: Annotated[Any, Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("skill.publish")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise ValidationFailed("skill pack", [Problem("", "must be a JSON object")])
        pack = parse_skill_pack(body, source="request body")
        return 201, skill_pack_view(await c.skills.publish(ws, pack))

    ident = body.get("id") if isinstance(body, dict) else None
    return await idempotent(
        request,
        c,
        ws,
        produce,
        audit="skill.publish",
        ident=ident if isinstance(ident, str) else None,
    )


@router.get("/skill-installations")
async def list_installations(
    c: ContainerDep, p: Annotated[Principal, acting("skill.read")]
) -> Response:
    found = await c.skills.installations(p.workspace_id)
    items = [installation_view(i, pack) for i, pack in found]
    return json_response({"items": items, "next_cursor": None})


@router.post("/skill-installations", status_code=201)
async def install_skill(
    request: Request,
    body: SkillInstallCreate,
    c: ContainerDep,
    p: Annotated[Principal, acting("skill.install")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        installed, pack = await c.skills.install(
            ws, body.pack, version=body.version, roles=body.roles, enabled=body.enabled, by=p.actor
        )
        return 201, installation_view(installed, pack)

    return await idempotent(request, c, ws, produce, audit="skill.install", ident=body.pack)


@router.patch("/skill-installations/{pack_id}")
async def change_installation(
    request: Request,
    pack_id: str,
    body: SkillInstallPatch,
    c: ContainerDep,
    p: Annotated[Principal, acting("skill.install")],
) -> Response:
    """Pin a version (or null: follow the latest), change the roles (or null:
    the pack's own), enable or disable."""
    ws = p.workspace_id
    sent = body.model_fields_set
    if not sent:
        raise ValidationFailed(
            "skill installation change", [Problem("", "give version, roles and/or enabled")]
        )
    if "enabled" in sent and body.enabled is None:
        raise ValidationFailed("skill installation change", [Problem("enabled", "true or false")])

    async def produce() -> tuple[int, Any]:
        changed, pack = await c.skills.update(
            ws,
            pack_id,
            version=body.version if "version" in sent else KEEP,
            roles=body.roles if "roles" in sent else KEEP,
            enabled=body.enabled,
        )
        return 200, installation_view(changed, pack)

    return await idempotent(request, c, ws, produce, audit="skill.update", ident=pack_id)


@router.delete("/skill-installations/{pack_id}", status_code=204)
async def uninstall_skill(
    request: Request,
    pack_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("skill.install")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.skills.uninstall(ws, pack_id)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="skill.uninstall", ident=pack_id)
