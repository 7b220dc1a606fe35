"""``swarmyard user``: the people of the current workspace and their roles.

Members are kept per workspace (``/workspaces/{ws}/members``), so every
command acts in the current one: ``--workspace``, else
``SWARMYARD_WORKSPACE``, else the stored session's or key file's. People
are named by e-mail or user id; an e-mail is what one remembers, the id is
what the API takes, so the list is looked up to turn one into the other.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .context import session, state_of
from .errors import CliError
from .formatting import Column, column, when
from .prompts import confirm, password
from .refs import segment
from .vocab import RoleName

__all__ = ["app"]

app = typer.Typer(
    help="Add people to the workspace, change their roles, remove them.", no_args_is_help=True
)

UserRef = Annotated[str, typer.Argument(metavar="USER", help="User id or e-mail address.")]

_COLUMNS = [
    column("EMAIL", "email"),
    column("NAME", "name"),
    column("ROLE", "role"),
    column("USER ID", "user_id"),
    Column("ADDED", lambda m: when(m.get("created_at"))),
]


def _members_path(ctx: typer.Context) -> str:
    return f"/workspaces/{segment(state_of(ctx).target.workspace)}/members"


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The person's e-mail address.")],
    name: Annotated[str | None, typer.Option(help="Their name, as shown to others.")] = None,
    role: Annotated[RoleName, typer.Option(help="Their role in the workspace.")] = "member",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
) -> None:
    """Create a user with a password and add them to the current workspace."""
    secret = password(from_stdin=password_stdin, twice=True)
    client, out = session(ctx)
    body: dict[str, Any] = {"email": email, "role": role, "password": secret}
    if name:
        body["name"] = name
    member = client.post(_members_path(ctx), body)
    if out.json_mode:
        out.json(member)
        return
    out.line(
        f"added {member.get('email')} ({member.get('user_id')}) to workspace "
        f"{state_of(ctx).target.workspace} as {member.get('role')}",
        "green",
    )


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List the members of the current workspace."""
    client, out = session(ctx)
    items = client.list_all(_members_path(ctx))
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(_COLUMNS, items, empty="no members")


@app.command("role")
def set_role(
    ctx: typer.Context,
    *,
    user: UserRef,
    role: Annotated[RoleName, typer.Argument(metavar="ROLE", help="owner, admin, member, viewer.")],
) -> None:
    """Change a member's role."""
    client, out = session(ctx)
    found = _member(ctx, user)
    member = client.patch(f"{_members_path(ctx)}/{segment(found['user_id'])}", {"role": role})
    if out.json_mode:
        out.json(member)
        return
    out.line(f"{member.get('email')} is now {member.get('role')}", "green")


@app.command("remove")
def remove(
    ctx: typer.Context,
    *,
    user: UserRef,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a member from the current workspace (their account stays)."""
    client, out = session(ctx)
    found = _member(ctx, user)
    workspace = state_of(ctx).target.workspace
    label = f"{found.get('email')} ({found['user_id']})"
    confirm(
        f"Remove {label} from workspace {workspace}?",
        yes=yes,
        refused=f"{label} was not removed",
        act=f"remove {label}",
    )
    client.delete(f"{_members_path(ctx)}/{segment(found['user_id'])}")
    if out.json_mode:
        out.json({"user_id": found["user_id"], "removed": True})
        return
    out.line(f"removed {label} from workspace {workspace}", "green")


def _member(ctx: typer.Context, ref: str) -> dict[str, Any]:
    """The member whose user id, or e-mail address (in any case), is `ref`."""
    client, _ = session(ctx)
    wanted = ref.strip().casefold()
    for item in client.list_all(_members_path(ctx)):
        if not isinstance(item, dict) or "user_id" not in item:
            continue
        if item["user_id"] == ref or str(item.get("email") or "").casefold() == wanted:
            return item
    workspace = state_of(ctx).target.workspace
    raise CliError(f"no member of workspace {workspace} has the id or e-mail {ref!r}")
