"""Per-request context: the container and the caller's workspace.

Until sign-in arrives, the workspace comes from the `X-Swarmyard-Workspace`
header (default `default`); an unknown workspace answers 404 like any other
unknown object.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from ..domain import DEFAULT_WORKSPACE, NotFound
from ..runtime.wiring import Container

__all__ = ["ContainerDep", "WorkspaceDep", "get_container", "get_workspace"]

_WS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_workspace(
    container: ContainerDep,
    x_swarmyard_workspace: Annotated[str | None, Header()] = None,
) -> str:
    ws = x_swarmyard_workspace or DEFAULT_WORKSPACE
    if not _WS.match(ws):
        raise NotFound("workspace", ws)
    await container.store.get_workspace(ws)
    return ws


WorkspaceDep = Annotated[str, Depends(get_workspace)]
