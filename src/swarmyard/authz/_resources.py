"""What an action is performed on, as authorization sees it.

A `Resource` is the small, Cedar-neutral description a caller hands to
`authorize`: its kind (which becomes the Cedar entity type), its id, the
workspace it belongs to, and any attributes a workspace rule may test (a
task's `type`, say). Keeping it apart from the domain entities means the data
layer decides what to expose to policies, and nothing else leaks into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

__all__ = ["AttrValue", "Resource", "ResourceKind"]

# Values Cedar can hold and JSON can carry without a type annotation; floats
# are absent because Cedar has none (decimals need an extension call).
AttrValue: TypeAlias = "str | int | bool | Sequence[AttrValue] | Mapping[str, AttrValue]"

# Attributes the engine sets itself; a caller overriding them could move a
# resource into another workspace as far as the policy can tell.
RESERVED_ATTRS = frozenset({"workspace"})


class ResourceKind(StrEnum):
    """Resource kinds; each value is the Cedar entity type (in the `Swarmyard` namespace)."""

    WORKSPACE = "Workspace"
    TASK = "Task"
    AGENT = "Agent"
    RUN = "Run"
    PROJECT = "Project"
    SCHEDULE = "Schedule"
    MANIFEST = "Manifest"
    API_KEY = "ApiKey"
    MEMBER = "Member"
    AUDIT = "Audit"
    BUDGET = "Budget"
    PROVIDER = "Provider"
    POLICY = "Policy"


@dataclass(frozen=True, slots=True)
class Resource:
    """One object of one workspace; `attrs` are extra facts a workspace rule may test.

    `kind` accepts a `ResourceKind` or its value (`"Task"`); anything else is a
    `ValueError`, as is an attribute Cedar cannot hold or one the engine
    reserves (`workspace` always comes from `workspace_id`).
    """

    kind: ResourceKind
    id: str
    workspace_id: str
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            kind = ResourceKind(self.kind)
        except ValueError:
            known = ", ".join(k.value for k in ResourceKind)
            raise ValueError(f"unknown resource kind {self.kind!r} (known: {known})") from None
        if not isinstance(self.attrs, Mapping):
            raise ValueError("resource attrs must be a mapping of attribute names to values")
        reserved = RESERVED_ATTRS.intersection(self.attrs)
        if reserved:
            names = ", ".join(sorted(reserved))
            raise ValueError(f"resource attribute(s) {names} are set by the engine, not by callers")
        object.__setattr__(self, "kind", kind)
        # A private read-only copy, so the facts checked here are the facts the
        # policy sees, even if the caller's objects change afterwards.
        object.__setattr__(self, "attrs", _frozen(kind.value, self.attrs))

    @classmethod
    def workspace(cls, workspace_id: str) -> Resource:
        """The workspace itself: what list and create actions are performed on."""
        return cls(ResourceKind.WORKSPACE, workspace_id, workspace_id)


def _frozen(path: str, value: object) -> AttrValue:
    """A read-only copy of `value`, or `ValueError` naming `path` if Cedar cannot hold it."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        # Cedar's Long is a signed 64-bit integer; larger values would be refused
        # by the engine at evaluation time with a far less helpful message.
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"resource attribute {path} does not fit in 64 bits")
        return value
    if isinstance(value, Mapping):
        items: dict[str, AttrValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"resource attribute {path} has a non-string key {key!r}")
            items[key] = _frozen(f"{path}.{key}", item)
        return MappingProxyType(items)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return tuple(_frozen(f"{path}.{index}", item) for index, item in enumerate(value))
    raise ValueError(
        f"resource attribute {path} is a {type(value).__name__}; "
        "only str, int, bool, lists and string-keyed mappings of them are allowed"
    )
