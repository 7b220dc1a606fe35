"""Conformance of the MCP server repository: memory, SQLite and PostgreSQL alike.

A name is unique per workspace (not across them), every field comes back
as written (the sealed secrets too, never opened by the store), lists are
by name and may keep only enabled servers, and another workspace sees none
of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.domain import Conflict, NotFound, Workspace
from swarmyard.domain.mcp import McpServer, McpTransport
from swarmyard.ports import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", T0))
    return store


def stdio(name: str, *, enabled: bool = True, workspace: str = A) -> McpServer:
    return McpServer(
        workspace_id=workspace,
        name=name,
        transport=McpTransport.STDIO,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=1),
        command="mcp-server-git",
        args=["--repository", "/srv/repo", "ünïcode"],
        env={"LOG_LEVEL": "debug", "EMPTY": ""},
        secret_env=["GIT_TOKEN"],
        sealed_secrets="gAAAA-sealed-by-the-box",
        enabled=enabled,
        timeout_seconds=12.5,
        created_by="user:alice",
    )


def http(name: str) -> McpServer:
    return McpServer(
        workspace_id=A,
        name=name,
        transport=McpTransport.HTTP,
        created_at=T0,
        updated_at=T0,
        url="https://tools.example.com/mcp",
        headers={"X-Team": "blue"},
        secret_headers=["Authorization"],
        sealed_secrets="gAAAA-other",
    )


async def test_servers_round_trip_by_name(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.mcp_servers.add(stdio("git"))
        await uow.mcp_servers.add(http("remote"))
        await uow.mcp_servers.add(stdio("b-off", enabled=False))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert await uow.mcp_servers.get("git") == stdio("git")
        assert await uow.mcp_servers.get("remote") == http("remote")
        assert [s.name for s in await uow.mcp_servers.list()] == ["b-off", "git", "remote"]
        assert [s.name for s in await uow.mcp_servers.list(enabled=True)] == ["git", "remote"]
        assert [s.name for s in await uow.mcp_servers.list(enabled=False)] == ["b-off"]


async def test_a_name_is_unique_per_workspace(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.mcp_servers.add(stdio("git"))
        with pytest.raises(Conflict, match="git"):
            await uow.mcp_servers.add(http("git"))
        # The refusal wrote nothing and left the unit of work usable.
        await uow.mcp_servers.add(http("remote"))
        await uow.commit()
    async with st.unit_of_work(B) as uow:
        await uow.mcp_servers.add(stdio("git", workspace=B))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert (await uow.mcp_servers.get("git")).transport is McpTransport.STDIO
        assert len(await uow.mcp_servers.list()) == 2


async def test_delete_and_another_workspace_sees_nothing(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.mcp_servers.add(stdio("git"))
        await uow.mcp_servers.add(http("remote"))
        await uow.commit()
    async with st.unit_of_work(B) as uow:
        assert await uow.mcp_servers.list() == []
        with pytest.raises(NotFound):
            await uow.mcp_servers.get("git")
        with pytest.raises(NotFound):
            await uow.mcp_servers.delete("git")
    async with st.unit_of_work(A) as uow:
        await uow.mcp_servers.delete("git")
        with pytest.raises(NotFound):
            await uow.mcp_servers.delete("git")
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert [s.name for s in await uow.mcp_servers.list()] == ["remote"]


async def test_leaving_without_commit_keeps_nothing(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.mcp_servers.add(stdio("git"))
    async with st.unit_of_work(A) as uow:
        assert await uow.mcp_servers.list() == []


async def test_deleting_the_workspace_takes_its_servers(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.mcp_servers.add(stdio("git"))
        await uow.commit()
    await st.delete_workspace(A)
    await st.add_workspace(Workspace(A, "Alpha again", T0))
    async with st.unit_of_work(A) as uow:
        assert await uow.mcp_servers.list() == []
