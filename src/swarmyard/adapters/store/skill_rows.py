"""Rows of skill packs and installations, shared by the SQL and the in-memory adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swarmyard.domain.skill import SkillInstallation, SkillPack

from .rows import Codec, Row

__all__ = ["SKILL_INSTALLATIONS", "pack_from_row", "pack_row"]

SKILL_INSTALLATIONS = Codec(
    SkillInstallation, json=("roles",), times=("installed_at", "updated_at")
)


def pack_row(workspace_id: str, pack: SkillPack) -> Row:
    return {
        "workspace_id": workspace_id,
        "id": pack.id,
        "version": pack.version,
        "data": pack.model_dump(mode="json"),
    }


def pack_from_row(row: Mapping[Any, Any]) -> SkillPack:
    return SkillPack.model_validate(row["data"])
