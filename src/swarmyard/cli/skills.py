"""``swarmyard skill``: skill packs (tools plus instructions) and the ones the
workspace installed.

Everyone may list and show; admins publish, install, upgrade and uninstall.
A pack is named ``ID`` (its latest version) or ``ID@VERSION``. ``publish``
reads a pack written by hand (TOML, like the built-in ones, or JSON) and
sends it as JSON; the server names every problem at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .context import session
from .documents import document_file, read_document
from .errors import EXIT_USAGE, CliError
from .formatting import Column, Item, column
from .refs import segment

__all__ = ["app", "pack_ref"]

app = typer.Typer(help="Skill packs: tools plus instructions for agents.", no_args_is_help=True)

_REF_HELP = "Pack id, or ID@VERSION to pin a version."


def _or_every_role(key: str) -> Any:
    return lambda item: item.get(key) or "every role"


_CATALOGUE = [
    column("ID", "id"),
    column("VERSION", "version"),
    column("VERSIONS", "versions"),
    column("BUILTIN", "builtin"),
    column("INSTALLED", "installed"),
    column("TOOLS", "tools", max_width=40),
    Column("ROLES", _or_every_role("roles"), max_width=40),
    column("NAME", "name"),
]

_INSTALLED = [
    column("PACK", "pack"),
    Column("VERSION", lambda i: i.get("version") or f"latest ({i.get('resolved_version')})"),
    column("ENABLED", "enabled"),
    Column("ROLES", _or_every_role("applies_to"), max_width=40),
    column("TOOLS", "tools", max_width=40),
]


def pack_ref(ref: str) -> tuple[str, str | None]:
    """``ID`` or ``ID@VERSION`` -> (id, version or None)."""
    pack_id, sep, version = ref.partition("@")
    if not pack_id or (sep and not version):
        raise CliError(f"{ref!r} is not ID or ID@VERSION", exit_code=EXIT_USAGE)
    return pack_id, version or None


@app.command("list")
def list_packs(ctx: typer.Context) -> None:
    """Every pack of the catalogue (its latest version), built-in ones first."""
    client, out = session(ctx)
    found = client.get("/skills")
    if out.json_mode:
        out.json(found)
        return
    out.records(_CATALOGUE, found.get("items") or [], empty="no skill packs")


@app.command("installed")
def installed(ctx: typer.Context) -> None:
    """The packs this workspace installed, with the version each stands for now."""
    client, out = session(ctx)
    found = client.get("/skill-installations")
    if out.json_mode:
        out.json(found)
        return
    out.records(_INSTALLED, found.get("items") or [], empty="no skill packs installed")


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID[@VERSION]", help=_REF_HELP)],
) -> None:
    """Show a pack: its tools, roles and instructions."""
    pack_id, version = pack_ref(ref)
    client, out = session(ctx)
    pack = client.get(f"/skills/{segment(pack_id)}", {"version": version})
    if version is None:
        versions = pack.get("versions") or [{}]
        pack = versions[-1] | {"versions": [v.get("version") for v in versions]}
    if out.json_mode:
        out.json(pack)
        return
    out.fields(
        [
            ("id", pack.get("id")),
            ("name", pack.get("name")),
            ("version", pack.get("version")),
            ("versions", pack.get("versions") or pack.get("version")),
            ("builtin", pack.get("builtin")),
            ("description", pack.get("description")),
            ("tools", pack.get("tools")),
            ("roles", pack.get("roles") or "every role"),
            ("instructions", pack.get("instructions")),
        ],
        title=f"{pack.get('id')} {pack.get('version')}",
    )


@app.command("publish")
def publish(
    ctx: typer.Context,
    file: Annotated[Path, document_file()],
) -> None:
    """Publish a custom pack: a new id, or a higher version of one (validated by the server)."""
    client, out = session(ctx)
    pack = client.post("/skills", read_document(file))
    if out.json_mode:
        out.json(pack)
        return
    out.line(f"published skill pack {pack.get('id')} {pack.get('version')}", "green")


@app.command("install")
def install(
    ctx: typer.Context,
    *,
    ref: Annotated[str, typer.Argument(metavar="ID[@VERSION]", help=_REF_HELP)],
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="Apply to this role only (repeatable); default: the pack's."),
    ] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Install it without giving it to any run yet.")
    ] = False,
) -> None:
    """Install a pack: following its latest version, or pinned to ID@VERSION."""
    pack_id, version = pack_ref(ref)
    body: dict[str, Any] = {"pack": pack_id, "version": version, "roles": role or None}
    if disabled:
        body["enabled"] = False
    client, out = session(ctx)
    made = client.post("/skill-installations", {k: v for k, v in body.items() if v is not None})
    if out.json_mode:
        out.json(made)
        return
    out.line(f"installed skill pack {pack_id} ({_version_text(made)})", "green")


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="ID[@VERSION]", help="ID follows the latest; ID@VERSION pins.")
    ],
) -> None:
    """Follow a pack's latest version again, or pin it to ID@VERSION."""
    pack_id, version = pack_ref(ref)
    _change(ctx, pack_id, {"version": version}, "upgraded")


@app.command("enable")
def enable(
    ctx: typer.Context, pack_id: Annotated[str, typer.Argument(metavar="ID", help="Pack id.")]
) -> None:
    """Give an installed pack to runs again."""
    _change(ctx, pack_id, {"enabled": True}, "enabled")


@app.command("disable")
def disable(
    ctx: typer.Context, pack_id: Annotated[str, typer.Argument(metavar="ID", help="Pack id.")]
) -> None:
    """Keep a pack installed but give it to no run."""
    _change(ctx, pack_id, {"enabled": False}, "disabled")


@app.command("uninstall")
def uninstall(
    ctx: typer.Context, pack_id: Annotated[str, typer.Argument(metavar="ID", help="Pack id.")]
) -> None:
    """Remove a pack from the workspace (it stays in the catalogue)."""
    client, out = session(ctx)
    client.delete(f"/skill-installations/{segment(pack_id)}")
    if out.json_mode:
        out.json({"id": pack_id, "deleted": True})
        return
    out.line(f"uninstalled skill pack {pack_id}", "green")


def _change(ctx: typer.Context, pack_id: str, body: dict[str, Any], verb: str) -> None:
    client, out = session(ctx)
    changed = client.patch(f"/skill-installations/{segment(pack_id)}", body)
    if out.json_mode:
        out.json(changed)
        return
    out.line(f"{verb} skill pack {pack_id} ({_version_text(changed)})", "green")


def _version_text(installation: Item) -> str:
    resolved = installation.get("resolved_version")
    if installation.get("version"):
        return f"pinned to {resolved}"
    return f"latest, now {resolved}"
