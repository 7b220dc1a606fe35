"""How things are named on the command line: by id, or by a unique name.

People remember agent, project and schedule names, not ids. `resolve`
tries the argument as an id first (one request), then looks it up among
the collection's names, and says plainly when a name is unknown or shared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import ApiError, CliError

if TYPE_CHECKING:
    from .client import ApiClient

__all__ = ["names_by_id", "resolve", "segment"]


def segment(value: str) -> str:
    """`value` made safe as one path segment (ids and names are user input)."""
    return quote(value, safe="")


def resolve(client: ApiClient, collection: str, ref: str, *, noun: str) -> dict[str, Any]:
    """The object of ``/<collection>`` whose id, or else whose name, is `ref`."""
    try:
        found = client.get(f"/{collection}/{segment(ref)}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        found = None
    if isinstance(found, dict):
        return found
    named = [item for item in client.list_all(f"/{collection}") if item.get("name") == ref]
    if len(named) == 1:
        return dict(named[0])
    if not named:
        raise CliError(f"no {noun} has the id or name {ref!r}")
    ids = ", ".join(str(item.get("id")) for item in named)
    raise CliError(f"{len(named)} {noun}s are named {ref!r}; give one of their ids: {ids}")


def names_by_id(client: ApiClient, collection: str) -> dict[str, str]:
    """``{id: name}`` of a whole collection, to show names where the API gives ids."""
    return {
        str(item["id"]): str(item.get("name") or item["id"])
        for item in client.list_all(f"/{collection}")
        if isinstance(item, dict) and "id" in item
    }
