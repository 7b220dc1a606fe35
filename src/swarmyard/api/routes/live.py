"""WS /ws: the workspace's live events over one WebSocket.

The caller authenticates on the upgrade (``Authorization: Bearer`` header,
or ``?access_token=`` where a browser cannot set headers; likewise the
workspace, ``X-Swarmyard-Workspace`` or ``?workspace=``) and then
subscribes to topics: ``{"subscribe": "board"}`` for card and agent changes,
``{"subscribe": "run", "run_id": "…"}`` for one run's events (stored ones
first when ``"after"`` is given). Only the caller's workspace is reachable.
A revoked key closes the socket (code 4401) as soon as the revocation is
announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ...authz import authorize
from ...domain import DomainError, Principal, subjects
from ...ports import Subscription
from ...runtime.wiring import Container
from ..shared_frames import FRAMES
from .streams import KEEPALIVE_SECONDS, stored_after

router = APIRouter(tags=["live"])

POLICY_VIOLATION = 1008
UNAUTHORIZED = 4401


async def _principal(ws: WebSocket, c: Container) -> Principal | None:
    header = ws.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    token = credential.strip() if scheme.lower() == "bearer" else ""
    token = token or ws.query_params.get("access_token", "")
    if not token:
        return None
    try:
        workspace = ws.headers.get("x-swarmyard-workspace") or ws.query_params.get("workspace")
        principal = await c.auth.authenticate(token, workspace)
    except DomainError:
        return None
    rules = await c.rules.get(principal.workspace_id)
    return principal if authorize(principal, "task.read", workspace_rules=rules).allowed else None


@router.websocket("/ws")
async def live(ws: WebSocket) -> None:
    c: Container = ws.app.state.container
    principal = await _principal(ws, c)
    if principal is None:
        await ws.close(code=UNAUTHORIZED, reason="not authenticated")
        return
    await ws.accept()
    session = _Session(ws, c, principal)
    await session.serve()


class _Session:
    def __init__(self, ws: WebSocket, c: Container, principal: Principal) -> None:
        self.ws, self.c, self.p = ws, c, principal
        self.board = False
        self.runs: dict[str, int] = {}  # run id -> last sequence sent

    async def serve(self) -> None:
        sub = await self.c.bus.subscribe(subjects.workspace_all(self.p.workspace_id))
        pump = asyncio.create_task(self._pump(sub))
        try:
            while True:
                await self._command(await self.ws.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            await sub.unsubscribe()

    async def _command(self, text: str) -> None:
        try:
            msg = json.loads(text)
            topic = msg.get("subscribe") or msg.get("unsubscribe")
        except (ValueError, AttributeError):
            await self._send({"error": 'send JSON like {"subscribe": "board"}'})
            return
        on = "subscribe" in msg
        if topic == "board":
            self.board = on
            await self._send({"ok": msg})
        elif topic == "run" and isinstance(msg.get("run_id"), str):
            await self._run_topic(msg["run_id"], on, int(msg.get("after") or 0))
        else:
            await self._send({"error": f"unknown topic {topic!r}; use board or run"})

    async def _run_topic(self, run_id: str, on: bool, after: int) -> None:
        if not on:
            self.runs.pop(run_id, None)
            await self._send({"ok": {"unsubscribe": "run", "run_id": run_id}})
            return
        try:
            events = await self.c.runs.events(self.p.workspace_id, run_id, after=after)
        except DomainError as exc:
            await self._send({"error": exc.message, "code": exc.code})
            return
        self.runs[run_id] = after
        await self._send({"ok": {"subscribe": "run", "run_id": run_id}})
        for ev in events:
            await self._run_event(ev.as_dict())

    async def _run_event(self, event: dict[str, Any], wire: str | None = None) -> None:
        """Send a run event if it is the next of a subscribed run; `wire` is
        its frame when already made (a live event: `_live_run_frame`)."""
        last = self.runs.get(event["run_id"])
        if last is None or event["seq"] <= last:
            return
        if event["seq"] > last + 1:  # a publication was missed: the stored rows have it
            await self._catch_up(event["run_id"])
            return
        self.runs[event["run_id"]] = event["seq"]
        await self.ws.send_text(wire if wire is not None else _run_frame(event))

    async def _catch_up(self, run_id: str) -> None:
        last = self.runs.get(run_id)
        if last is None:
            return
        for body in await stored_after(self.c, self.p.workspace_id, run_id, last):
            self.runs[run_id] = body["seq"]
            await self._send({"topic": "run", "run_id": run_id, "event": body})

    async def _pump(self, sub: Subscription) -> None:
        revoked = subjects.auth_revoked(self.p.workspace_id)
        board = subjects.board(self.p.workspace_id)
        events = subjects.run_events(self.p.workspace_id, "")
        while True:
            try:
                msg = await sub.next(timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                # Quiet for a while: the last publications of a run may be lost.
                for run_id in list(self.runs):
                    await self._catch_up(run_id)
                continue
            if msg.subject == revoked and msg.data.decode() == self.p.id:
                await self.ws.close(code=UNAUTHORIZED, reason="credential revoked")
                return
            if msg.subject == board and self.board:
                await self.ws.send_text(FRAMES.get("ws-board", msg.data, _board_frame))
            elif msg.subject.startswith(events) and self.runs:
                event, wire = FRAMES.get("ws-run", msg.data, _live_run_frame)
                await self._run_event(event, wire)

    async def _send(self, body: dict[str, Any]) -> None:
        await self.ws.send_text(_text(body))


def _text(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), default=str)


def _run_frame(event: dict[str, Any]) -> str:
    return _text({"topic": "run", "run_id": event["run_id"], "event": event})


def _live_run_frame(data: bytes) -> tuple[dict[str, Any], str]:
    event: dict[str, Any] = json.loads(data)
    return event, _run_frame(event)


def _board_frame(data: bytes) -> str:
    return _text({"topic": "board", "data": json.loads(data)})
