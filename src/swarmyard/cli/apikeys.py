"""``swarmyard apikey``: keys for scripts, CI and other machines.

The server stores a key's hash only, so a new key is shown once, when it is
created. ``create`` therefore prints the key alone on stdout (a script
captures it with ``KEY=$(swarmyard apikey create ci)``) and says the rest,
with the warning, on stderr. A key acts with the role it was given, in the
workspace it was made in, until it expires or is revoked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from .context import session
from .formatting import Column, Item, column, when
from .prompts import confirm
from .refs import segment
from .vocab import RoleName

__all__ = ["app"]

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

_STATE_STYLES = {"active": "green", "revoked": "dim strike", "expired": "red"}


def key_state(key: Item, now: datetime | None = None) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if key.get("revoked_at"):
        return "revoked"
    expires = _moment(key.get("expires_at"))
    if expires is not None and expires <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _expiry(key: Item) -> str:
    return when(key.get("expires_at")) if key.get("expires_at") else "never"


_COLUMNS = [
    column("NAME", "name"),
    column("ID", "id"),
    column("ROLE", "role"),
    Column("STATE", key_state, style=_STATE_STYLES.get),
    column("CREATED BY", "created_by"),
    Column("CREATED", lambda k: when(k.get("created_at"))),
    Column("EXPIRES", _expiry),
    Column("LAST USED", lambda k: when(k.get("last_used_at"))),
]


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="What the key is for, e.g. ci.")],
    role: Annotated[RoleName, typer.Option(help="The role the key acts with.")] = "member",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Days until it stops working (default: never).")
    ] = None,
) -> None:
    """Create an API key; it is shown this once."""
    client, out = session(ctx)
    body: dict[str, Any] = {"name": name, "role": role}
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    key = client.post("/api-keys", body)
    if out.json_mode:
        out.json(key)
        return
    out.note(
        f"created API key {key.get('name')} ({key.get('id')}), role {key.get('role')}, "
        f"expires {_expiry(key)}"
    )
    out.note("this is the only time the key is shown: store it now")
    out.line(str(key.get("key")))


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """List the workspace's API keys (never the keys themselves)."""
    client, out = session(ctx)
    items = client.list_all("/api-keys")
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(_COLUMNS, items, empty="no API keys — create one with `swarmyard apikey create`")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    *,
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="Id of the key.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Revoke an API key: it stops working at once."""
    client, out = session(ctx)
    confirm(
        f"Revoke API key {key_id}? Whatever uses it stops working.",
        yes=yes,
        refused=f"API key {key_id} was not revoked",
        act=f"revoke API key {key_id}",
    )
    client.delete(f"/api-keys/{segment(key_id)}")
    if out.json_mode:
        out.json({"id": key_id, "revoked": True})
        return
    out.line(f"revoked API key {key_id}", "green")
