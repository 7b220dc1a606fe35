"""``swarmyard mcp``: the MCP servers a workspace registers (admins add,
update and remove them; members list, probe and see their tools).

A secret value is never an option's value, which would land in the shell
history: ``--secret-env NAME`` and ``--secret-header NAME`` read each value
from stdin (one line per secret, in the order given), or ask for it with
the echo off on a terminal. The server seals them and shows only the names.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .context import session
from .errors import EXIT_API, CliError
from .formatting import Column, Item, column, status_style, text, when
from .prompts import secret_from_stdin
from .refs import segment

if TYPE_CHECKING:
    from .output import Output

__all__ = ["app", "pairs"]

app = typer.Typer(help="MCP tool servers of the workspace.", no_args_is_help=True)


def _target(server: Item) -> str:
    if server.get("transport") == "http":
        return str(server.get("url") or "-")
    return " ".join([str(server.get("command") or ""), *map(str, server.get("args") or [])])


def _health(key: str) -> Any:
    return lambda server: (server.get("health") or {}).get(key)


_SERVERS = [
    column("NAME", "name"),
    column("TRANSPORT", "transport"),
    Column("TARGET", _target, max_width=50),
    column("ENABLED", "enabled"),
    Column("HEALTH", _health("status"), style=status_style),
    Column("TOOLS", _health("tools")),
    Column("ERROR", _health("error"), max_width=60),
]

_TOOLS = [
    column("TOOL", "name"),
    column("MCP NAME", "mcp_name"),
    column("DESCRIPTION", "description", max_width=70),
]


def pairs(values: list[str], option: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a mapping (a value may hold ``=`` itself)."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{value!r} is not NAME=VALUE", param_hint=option)
        found[name.strip()] = rest
    return found


def _secrets(names: list[str], what: str) -> dict[str, str]:
    return {name: secret_from_stdin(f"value of {what} {name}") for name in names}


@app.command("list")
def list_servers(ctx: typer.Context) -> None:
    """Every MCP server of the workspace, with what this server saw of its health."""
    client, out = session(ctx)
    found = client.get("/mcp-servers")
    if out.json_mode:
        out.json(found)
        return
    out.records(_SERVERS, found.get("items") or [], empty="no MCP servers")


# The options `add` and `update` share.
Command = Annotated[
    str | None, typer.Option(help="Program to run (a stdio server), e.g. mcp-server-git.")
]
Args = Annotated[
    list[str] | None, typer.Option("--arg", help="An argument of the command (repeatable).")
]
Env = Annotated[
    list[str] | None, typer.Option("--env", help="NAME=VALUE for the command (repeatable).")
]
SecretEnv = Annotated[
    list[str] | None,
    typer.Option("--secret-env", help="NAME of a secret variable; its value from stdin."),
]
Url = Annotated[str | None, typer.Option(help="Streamable HTTP endpoint, e.g. https://host/mcp.")]
Headers = Annotated[
    list[str] | None, typer.Option("--header", help="NAME=VALUE sent to it (repeatable).")
]
SecretHeaders = Annotated[
    list[str] | None,
    typer.Option("--secret-header", help="NAME of a secret header; its value from stdin."),
]
Timeout = Annotated[
    float | None, typer.Option(min=0.1, max=600, help="Seconds for connecting and each call.")
]


class Clearable(StrEnum):
    ARGS = "args"
    ENV = "env"
    SECRET_ENV = "secret_env"
    HEADERS = "headers"
    SECRET_HEADERS = "secret_headers"


def _settings(
    *,
    command: str | None,
    arg: list[str] | None,
    env: list[str] | None,
    secret_env: list[str] | None,
    url: str | None,
    header: list[str] | None,
    secret_header: list[str] | None,
    timeout: float | None,
) -> dict[str, Any]:
    """The body fields the options give (secret values read from stdin)."""
    body: dict[str, Any] = {
        "command": command,
        "args": arg or None,
        "env": pairs(env or [], "--env") or None,
        "url": url,
        "headers": pairs(header or [], "--header") or None,
        "timeout_seconds": timeout,
    }
    body["secret_env"] = _secrets(secret_env or [], "environment variable") or None
    body["secret_headers"] = _secrets(secret_header or [], "header") or None
    return {k: v for k, v in body.items() if v is not None}


def _report(out: Output, done: str, server: Item) -> None:
    """The server `add` or `update` answered, named with what was `done` to it."""
    if out.json_mode:
        out.json(server)
        return
    secrets = [*server.get("secret_env", []), *server.get("secret_headers", [])]
    sealed = f", secrets sealed: {text(secrets)}" if secrets else ""
    out.line(f"{done} MCP server {server.get('name')} ({server.get('transport')}{sealed})", "green")


@app.command("add")
def add(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Server name, e.g. git.")],
    command: Command = None,
    arg: Args = None,
    env: Env = None,
    secret_env: SecretEnv = None,
    url: Url = None,
    header: Headers = None,
    secret_header: SecretHeaders = None,
    timeout: Timeout = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Register it without offering its tools to agents.")
    ] = False,
) -> None:
    """Register a server: a command run on the platform's host (--command) or an
    HTTP endpoint (--url)."""
    body = {"name": name} | _settings(
        command=command,
        arg=arg,
        env=env,
        secret_env=secret_env,
        url=url,
        header=header,
        secret_header=secret_header,
        timeout=timeout,
    )
    if disabled:
        body["enabled"] = False
    client, out = session(ctx)
    _report(out, "added", client.post("/mcp-servers", body))


@app.command("update")
def update(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Server name.")],
    command: Command = None,
    arg: Args = None,
    env: Env = None,
    secret_env: SecretEnv = None,
    url: Url = None,
    header: Headers = None,
    secret_header: SecretHeaders = None,
    timeout: Timeout = None,
    enabled: Annotated[
        bool | None,
        typer.Option("--enabled/--disabled", help="Offer its tools to agents, or stop offering."),
    ] = None,
    clear: Annotated[
        list[Clearable] | None,
        typer.Option("--clear", help="Empty this field (repeatable): args, env, headers, ..."),
    ] = None,
) -> None:
    """Change a server: each option given replaces that setting whole (every
    --arg, --env, --header or secret of it at once); the others stay. A --url
    for a stdio server (or a --command for an HTTP one) moves it to that
    transport. Its session closes; the next use connects with the new settings."""
    body: dict[str, Any] = dict.fromkeys(c.value for c in clear or [])
    body |= _settings(
        command=command,
        arg=arg,
        env=env,
        secret_env=secret_env,
        url=url,
        header=header,
        secret_header=secret_header,
        timeout=timeout,
    )
    if enabled is not None:
        body["enabled"] = enabled
    if not body:
        raise typer.BadParameter("give at least one setting to change", param_hint="options")
    client, out = session(ctx)
    _report(out, "updated", client.patch(f"/mcp-servers/{segment(name)}", body))


@app.command("tools")
def tools(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Server name.")],
) -> None:
    """Connect to the server now and list its tools, as agents see them."""
    client, out = session(ctx)
    found = client.get(f"/mcp-servers/{segment(name)}/tools")
    if out.json_mode:
        out.json(found)
        return
    out.records(_TOOLS, found.get("items") or [], empty=f"{name} offers no tools")


@app.command("probe")
def probe(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Server name.")],
) -> None:
    """Connect now (restarting it if it died) and say whether it answers;
    exits 1 when it does not."""
    client, out = session(ctx)
    found = client.post(f"/mcp-servers/{segment(name)}/probe")
    health = found.get("health") or {}
    if out.json_mode:
        out.json(found)
    elif health.get("status") == "healthy":
        out.line(f"{name}: healthy, {health.get('tools')} tools ({when(health.get('checked_at'))})")
    if health.get("status") != "healthy":
        raise CliError(
            f"{name} is {health.get('status')}: {health.get('error')}", exit_code=EXIT_API
        )


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Server name.")],
) -> None:
    """Remove a server (a running stdio server is stopped)."""
    client, out = session(ctx)
    client.delete(f"/mcp-servers/{segment(name)}")
    if out.json_mode:
        out.json({"name": name, "deleted": True})
        return
    out.line(f"removed MCP server {name}", "green")
