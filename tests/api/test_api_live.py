"""WS /ws and the SSE streams on a real server: authenticated on connect,
scoped to the caller's workspace, closed when the key is revoked."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
import websockets

from swarmyard.api.app import create_app
from swarmyard.runtime.wiring import Container


@pytest.fixture
async def server(platform: Container) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(platform, manage_lifecycle=False), log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    sock.listen()  # connections wait in the backlog until uvicorn accepts them
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    yield f"127.0.0.1:{port}"
    srv.should_exit = True
    await task
    sock.close()


async def drain(ws: Any) -> None:
    while True:
        await ws.recv()


async def refused(url: str, **kw: Any) -> bool:
    try:
        async with websockets.connect(url, **kw) as ws:
            await ws.recv()
    except (websockets.InvalidStatus, websockets.ConnectionClosed):
        return True
    return False


async def test_ws_refuses_missing_and_forged_credentials(server: str, platform: Container) -> None:
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "u", "iss": "swarmyard", "aud": "swarmyard-api", "iat": now, "exp": now + 60},
        None,
        algorithm="none",
    )  # type: ignore[arg-type]
    assert await refused(f"ws://{server}/ws")
    assert await refused(f"ws://{server}/ws?access_token={forged}")
    assert await refused(f"ws://{server}/ws?access_token=sy_key_x_nope")


async def test_ws_board_and_run_topics(server: str, owner_key: str) -> None:
    key = owner_key
    api = httpx.AsyncClient(
        base_url=f"http://{server}/api/v1", headers={"Authorization": f"Bearer {key}"}
    )
    async with (
        api,
        websockets.connect(
            f"ws://{server}/ws", additional_headers={"Authorization": f"Bearer {key}"}
        ) as ws,
    ):
        await ws.send(json.dumps({"subscribe": "board"}))
        assert json.loads(await ws.recv())["ok"] == {"subscribe": "board"}
        task = (
            await api.post("/tasks", json={"title": "live", "type": "docs", "status": "backlog"})
        ).json()
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if msg.get("topic") == "board" and msg["data"].get("task", {}).get("id") == task["id"]:
                break
        await ws.send(json.dumps({"subscribe": "run", "run_id": "run_nope"}))
        while "error" not in (msg := json.loads(await asyncio.wait_for(ws.recv(), 10))):
            pass
        assert msg["code"] == "not_found"


async def test_revoking_a_key_closes_its_ws_and_sse(server: str, owner_key: str) -> None:
    owner = {"Authorization": f"Bearer {owner_key}"}
    async with httpx.AsyncClient(base_url=f"http://{server}/api/v1", headers=owner) as api:
        key = (await api.post("/api-keys", json={"name": "temp", "role": "viewer"})).json()
        task = (
            await api.post(
                "/tasks", json={"title": "never settles", "type": "docs", "status": "backlog"}
            )
        ).json()
        temp = {"Authorization": f"Bearer {key['key']}"}
        async with (
            websockets.connect(f"ws://{server}/ws", additional_headers=temp) as ws,
            api.stream("GET", f"/tasks/{task['id']}/stream", headers=temp) as sse,
        ):
            await ws.send(json.dumps({"subscribe": "board"}))
            await ws.recv()
            lines = sse.aiter_lines()
            while not (await anext(lines)).startswith("event: task"):
                pass
            assert (await api.delete(f"/api-keys/{key['id']}")).status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(drain(ws), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401
            rest = [line async for line in lines]
            assert "event: error" in rest
            assert any("credential revoked" in line for line in rest)
        assert (await api.get("/tasks", headers=temp)).status_code == 401
        r = await api.get(f"/tasks/{task['id']}/stream", headers=temp)
        assert r.status_code == 401


async def test_ws_takes_the_workspace_from_the_query_where_browsers_cannot_send_headers(
    server: str, owner_key: str
) -> None:
    owner = {"Authorization": f"Bearer {owner_key}"}
    async with httpx.AsyncClient(base_url=f"http://{server}/api/v1", headers=owner) as api:
        member = {"email": "two@example.com", "role": "member", "password": "correct horse battery"}
        assert (await api.post("/workspaces/default/members", json=member)).status_code == 201
        pair = (
            await api.post(
                "/auth/token", json={"email": member["email"], "password": member["password"]}
            )
        ).json()
        person = {"Authorization": f"Bearer {pair['access_token']}"}
        created = await api.post("/workspaces", json={"id": "second"}, headers=person)
        assert created.status_code == 201, created.text
        url = f"ws://{server}/ws?access_token={pair['access_token']}&workspace=second"
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"subscribe": "board"}))
            assert json.loads(await ws.recv())["ok"] == {"subscribe": "board"}
            task = (
                await api.post(
                    "/tasks",
                    json={"title": "elsewhere", "type": "docs", "status": "backlog"},
                    headers={**person, "X-Swarmyard-Workspace": "second"},
                )
            ).json()
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg.get("topic") == "board":
                    break
            assert msg["data"]["task"]["id"] == task["id"]
        # Not a member: refused like a bad credential.
        assert await refused(f"ws://{server}/ws?access_token={pair['access_token']}&workspace=nope")
