"""``swarmyard status``: is a server there, and which one.

The quickest check that ``--url`` and ``--workspace`` point where they
should, before anything else is tried.
"""

from __future__ import annotations

import typer

from .context import session

__all__ = ["status"]


def status(ctx: typer.Context) -> None:
    """Show whether the server answers, its version and its mode."""
    client, out = session(ctx)
    health = client.health()
    if out.json_mode:
        out.json(health)
        return
    out.fields(
        [
            ("server", client.url),
            ("status", health.get("status")),
            ("version", health.get("version")),
            ("mode", health.get("mode")),
        ]
    )
