"""Skill packs: a bundle of tools and the instructions for using them well.

A pack is data, versioned like an agent manifest: the built-in ones ship as
TOML files in `swarmyard/catalog/skills/`, custom ones are published per
workspace. A workspace installs a pack (following its latest version, or
pinned to one), for every role or only some; at the start of each run the
agent loop asks for the `SkillGrant` of the run's role and adds its
instructions to the system prompt and its tools to the ones offered.

A pack only *offers* tools: every call still goes through the policy gate
(domain.policy), so installing a pack never widens what a policy forbids.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .manifest import _SLUG, Version, parse_version

__all__ = [
    "PackIndex",
    "SkillGrant",
    "SkillInstallation",
    "SkillPack",
    "check_roles",
    "grant_for",
    "index_packs",
    "pack_applies",
    "resolve",
]

# The characters of a tool name or shell pattern, as policies take them,
# starting with a name: a bare "*" would offer every tool there is.
_TOOL_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.*?-]{0,127}$")
_ROLE = re.compile(_SLUG)
_MAX_TOOLS = 100
_MAX_ROLES = 50


def _unique(values: list[str], what: str) -> list[str]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what} repeat: {', '.join(repeated)}")
    return values


def check_roles(values: list[str]) -> list[str]:
    """Role names (slugs), each once; ValueError naming the first bad one."""
    for value in values:
        if not _ROLE.match(value):
            raise ValueError(
                f"{value[:40]!r} is not a role: 2 to 63 lowercase letters, digits or "
                "hyphens, starting with a letter"
            )
    return _unique(values, "roles")


class SkillPack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_SLUG)
    name: str = Field(min_length=1, max_length=100)
    version: Version
    description: str = Field(default="", max_length=4000)
    # Markdown, added to the system prompt of every run the pack applies to.
    instructions: str = Field(min_length=1, max_length=20000)
    # Tool names or shell patterns ("git.*", "mcp.time.*").
    tools: list[str] = Field(default_factory=list, max_length=_MAX_TOOLS)
    # The roles it applies to; empty means every role.
    roles: list[str] = Field(default_factory=list, max_length=_MAX_ROLES)
    builtin: bool = False

    @field_validator("instructions")
    @classmethod
    def _instructions(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must say something: the instructions are blank")
        return value

    @field_validator("tools")
    @classmethod
    def _tools(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _TOOL_PATTERN.match(value):
                raise ValueError(
                    f"{value[:40]!r} is not a tool name or pattern: up to 128 letters, "
                    "digits, _ . - * ?, starting with a letter, digit or _ (e.g. git.* "
                    "or mcp.time.*)"
                )
        return _unique(values, "tools")

    @field_validator("roles")
    @classmethod
    def _roles(cls, values: list[str]) -> list[str]:
        return check_roles(values)

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(slots=True)
class SkillInstallation:
    """A pack installed in a workspace; a workspace installs each pack once,
    so the pack's id is the installation's id too."""

    workspace_id: str
    pack_id: str
    installed_at: datetime
    updated_at: datetime
    installed_by: str = ""
    # Pinned version; None follows the latest version published.
    version: str | None = None
    # Replaces the pack's own roles when given ([] means every role).
    roles: list[str] | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SkillGrant:
    """What a role's runs get from the workspace's installed packs."""

    # Markdown for the system prompt: one section per pack ('' when none).
    instructions: str = ""
    # Tool names and patterns to add to the offered tools, each once.
    tools: tuple[str, ...] = ()
    # The packs applied, as ``id@version``, by id.
    packs: tuple[str, ...] = ()
    # Installed packs (or pinned versions) no longer in the catalogue.
    missing: tuple[str, ...] = ()

    def offers(self, tool: str) -> bool:
        """Whether `tool` matches one of the granted names or patterns."""
        return any(fnmatch.fnmatchcase(tool, pattern) for pattern in self.tools)


def pack_applies(pack: SkillPack, installation: SkillInstallation, role: str) -> bool:
    roles = pack.roles if installation.roles is None else installation.roles
    return not roles or role in roles


PackIndex = Mapping[str, Mapping[str, SkillPack]]


def index_packs(packs: Iterable[SkillPack]) -> dict[str, dict[str, SkillPack]]:
    """Packs by id, then by version."""
    index: dict[str, dict[str, SkillPack]] = {}
    for pack in packs:
        index.setdefault(pack.id, {})[pack.version] = pack
    return index


def resolve(installation: SkillInstallation, index: PackIndex) -> SkillPack | None:
    """The pack an installation stands for now: its pinned version, else the
    latest one; None when that is not in the catalogue (any more)."""
    versions = index.get(installation.pack_id, {})
    if installation.version is not None:
        return versions.get(installation.version)
    return max(versions.values(), key=lambda p: p.version_tuple, default=None)


def grant_for(
    role: str, installations: Iterable[SkillInstallation], packs: Iterable[SkillPack]
) -> SkillGrant:
    """The grant of `role`: every enabled installation resolved to its pinned
    version (else the latest of `packs`), kept when it applies to the role,
    in pack id order so that prompts do not change between runs."""
    index = index_packs(packs)
    sections: list[str] = []
    tools: dict[str, None] = {}
    applied: list[str] = []
    missing: list[str] = []
    for inst in sorted(installations, key=lambda i: i.pack_id):
        if not inst.enabled:
            continue
        pack = resolve(inst, index)
        if pack is None:
            missing.append(f"{inst.pack_id}@{inst.version}" if inst.version else inst.pack_id)
            continue
        if not pack_applies(pack, inst, role):
            continue
        sections.append(f"## Skill: {pack.name} ({pack.version})\n\n{pack.instructions.strip()}")
        tools.update(dict.fromkeys(pack.tools))
        applied.append(pack.ref)
    return SkillGrant(
        instructions="\n\n".join(sections),
        tools=tuple(tools),
        packs=tuple(applied),
        missing=tuple(missing),
    )
