"""``swarmyard login``, ``logout`` and ``whoami``: a person's session.

Signing in trades an e-mail and password for an access token and a refresh
token, kept in ``<data-dir>/session.json`` for the commands that follow
(see `bearer` for how they are renewed). The password is never stored.
``whoami`` says which credential a command would use and who the server
takes it for: the quickest answer to "why was I refused?".
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .context import state_of
from .errors import CliError, NoServer, NotSignedIn, ServerGone
from .formatting import column
from .prompts import ask, password
from .store import DataDir, Session

if TYPE_CHECKING:
    from .client import ApiClient

__all__ = ["login", "logout", "whoami"]


def login(
    ctx: typer.Context,
    *,
    email: Annotated[
        str | None, typer.Option(help="Your e-mail address (asked if not given).")
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(help="Workspace to sign in to (default: the one where your role is highest)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
) -> None:
    """Sign in with your e-mail and password; later commands act as you."""
    state = state_of(ctx)
    previous = _readable_session(state.store)
    email = email or ask("E-mail", option="--email", default=previous.email if previous else None)
    secret = password(from_stdin=password_stdin)
    client = state.unsigned_client()
    body: dict[str, Any] = {"email": email, "password": secret}
    if workspace or state.workspace:
        body["workspace"] = workspace or state.workspace
    try:
        tokens = client.post_unsigned("/auth/token", body)
    except NotSignedIn as exc:
        raise CliError(exc.message) from None  # a wrong password: no hint to sign in
    if not isinstance(tokens, dict):
        raise CliError("the server's answer to /auth/token is not an object")
    session = Session.from_tokens(tokens, url=client.url, email=email, now=time.time())
    state.store.write_session(session)
    if previous is not None and previous.url == client.url:
        _end_quietly(client, previous)
    out = state.out
    if out.json_mode:
        out.json(
            {
                "email": email,
                "url": client.url,
                "workspace": session.workspace,
                "role": session.role,
            }
        )
        return
    out.line(
        f"signed in to {client.url} as {email}, workspace {session.workspace} "
        f"(role {session.role})",
        "green",
    )


def _readable_session(store: DataDir) -> Session | None:
    try:
        return store.read_session()
    except CliError:
        return None  # damaged: signing in replaces it


def _end_quietly(client: ApiClient, session: Session) -> None:
    """End a replaced session on the server, so its refresh token is not left
    valid in a file nobody reads any more. Best effort: it expires anyway."""
    with contextlib.suppress(CliError):
        client.post_unsigned("/auth/logout", {"refresh_token": session.refresh_token})


def logout(ctx: typer.Context) -> None:
    """Sign out: end the session on the server and forget it here."""
    state = state_of(ctx)
    out = state.out
    session = _readable_session(state.store)
    if session is None:
        gone = state.store.forget_session()  # a damaged file goes too
        if out.json_mode:
            out.json({"signed_out": gone})
        else:
            out.line("signed out" if gone else "not signed in: there is no session to end")
        return
    try:
        # Its tokens belong to the server that gave them, whatever --url says.
        state.unsigned_client(session.url).post_unsigned(
            "/auth/logout", {"refresh_token": session.refresh_token}
        )
    except NotSignedIn:
        pass  # the server had already ended it
    except (NoServer, ServerGone):
        state.store.forget_session()
        out.note("the session is forgotten here, but the server was not told: it ends on its own")
        raise
    state.store.forget_session()
    if out.json_mode:
        out.json({"signed_out": True, "email": session.email, "url": session.url})
        return
    out.line(f"signed out {session.email or 'of the session'} at {session.url}", "green")


_WORKSPACE_COLUMNS = [column("ID", "id"), column("NAME", "name"), column("ROLE", "role")]


def whoami(ctx: typer.Context) -> None:
    """Show who the server takes you for, your role, and your workspaces."""
    state = state_of(ctx)
    client, out = state.client, state.out
    me = client.get("/auth/me")
    if out.json_mode:
        out.json(me)
        return
    who = me.get("principal") or {}
    credential = state.target.credential
    source = credential.source if credential else "none"
    if credential is not None and credential.session is not None:
        source = f"session of {credential.session.email} ({state.store.session_path})"
    out.fields(
        [
            ("name", who.get("name")),
            ("kind", who.get("kind")),
            ("id", who.get("id")),
            ("workspace", who.get("workspace_id")),
            ("role", who.get("role")),
            ("server", client.url),
            ("credential", source),
        ]
    )
    workspaces = me.get("workspaces") or []
    out.records(_WORKSPACE_COLUMNS, workspaces, title="workspaces", empty="none")
