"""Live streams over Server-Sent Events.

Both streams subscribe to the bus *before* reading the stored history, then
drop live events they already sent (by run and sequence number), so a
client sees every event exactly once and in order, whether it connected
early, late, or reconnected with `Last-Event-ID`. Run events are published
after commit with no outbox row (see `Announcer.run_events`): a live event
whose sequence number skips one, or a quiet keep-alive period, makes the
stream read what it missed from the stored events.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse

from ...domain import Principal, TaskStatus, subjects
from ...ports import Page, Subscription, TaskFilter
from ...runtime.wiring import Container
from ...services.views import task_view
from ..context import ContainerDep, acting
from ..shared_frames import FRAMES
from ..sse import KEEPALIVE, sse

router = APIRouter(tags=["streams"])

KEEPALIVE_SECONDS = 15.0
_TERMINAL_EVENTS = {"completed", "error", "stopped"}
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get("/runs/{run_id}/stream")
async def run_stream(
    run_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("run.read")],
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    ws = p.workspace_id
    await c.runs.get(ws, run_id)  # 404 before the stream starts
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
    # The workspace-wide subscription also carries key revocations, which
    # end the stream of a revoked key at once.
    sub = await c.bus.subscribe(subjects.workspace_all(ws))
    return StreamingResponse(
        _run_events(c, p, run_id, start, sub), media_type="text/event-stream", headers=_HEADERS
    )


def _revokes(subject: str, data: bytes, p: Principal) -> bool:
    return subject == subjects.auth_revoked(p.workspace_id) and (data.decode() == p.id)


async def stored_after(c: Container, ws: str, run_id: str, last: int) -> list[dict[str, Any]]:
    """The run's stored events after sequence number `last`, as sent on the wire."""
    return [ev.as_dict() for ev in await c.runs.events(ws, run_id, after=last, limit=100_000)]


def _event_frame(body: dict[str, Any]) -> bytes:
    return sse(body["type"], body, body["seq"])


def _live_event(data: bytes) -> tuple[dict[str, Any], bytes]:
    body: dict[str, Any] = json.loads(data)
    return body, _event_frame(body)


# A batch of run events to send: each with its frame when already made.
_Batch = list[tuple[dict[str, Any], bytes | None]]


def _stored(bodies: list[dict[str, Any]]) -> _Batch:
    return [(body, None) for body in bodies]


async def _run_events(
    c: Container, p: Principal, run_id: str, last: int, sub: Subscription
) -> AsyncIterator[bytes]:
    ws = p.workspace_id
    try:
        batch: _Batch | bytes = _stored(await stored_after(c, ws, run_id, last))
        first = True
        while True:
            if isinstance(batch, bytes):
                yield batch
                if batch is not KEEPALIVE:
                    return
            else:
                for body, frame in batch:
                    if body["seq"] <= last:
                        continue
                    last = body["seq"]
                    yield frame if frame is not None else _event_frame(body)
                    if body["type"] in _TERMINAL_EVENTS:
                        return
            if first and (await c.runs.get(ws, run_id)).status.is_terminal:
                return
            first = False
            batch = await _next_events(c, p, run_id, last, sub)
    finally:
        await sub.unsubscribe()


async def _next_events(
    c: Container, p: Principal, run_id: str, last: int, sub: Subscription
) -> _Batch | bytes:
    """The run's next events to send, or a frame to send instead: a keep-alive,
    or the error that ends the stream of a revoked credential."""
    ws = p.workspace_id
    try:
        msg = await sub.next(timeout=KEEPALIVE_SECONDS)
    except TimeoutError:
        # Quiet for a while: the run's last publications may be lost.
        return _stored(await stored_after(c, ws, run_id, last)) or KEEPALIVE
    if _revokes(msg.subject, msg.data, p):
        return sse("error", {"code": "not_authenticated", "message": "credential revoked"})
    if msg.subject != subjects.run_events(ws, run_id):
        return []
    body, frame = FRAMES.get("sse-run", msg.data, _live_event)
    if body["seq"] > last + 1:  # a publication was missed: the stored rows have it
        return _stored(await stored_after(c, ws, run_id, last))
    return [(body, frame)]


@router.get("/tasks/{task_id}/stream")
async def task_stream(
    task_id: str, c: ContainerDep, p: Annotated[Principal, acting("task.read")]
) -> Response:
    """The task and every subtask below it: card changes and run events, until
    the task settles (done, failed, cancelled; review when a person must review)."""
    ws = p.workspace_id
    await c.tasks.get(ws, task_id)
    # One subscription to the whole workspace keeps board changes and run
    # events in publish order: a subtask's card always precedes its events.
    sub = await c.bus.subscribe(subjects.workspace_all(ws))
    return StreamingResponse(
        _task_tree(c, p, task_id, sub), media_type="text/event-stream", headers=_HEADERS
    )


def _settled(task: dict[str, Any]) -> bool:
    status = task["status"]
    return status in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED) or (
        status == TaskStatus.REVIEW and task["review_required"]
    )


class _Tree:
    """What the task stream has sent so far."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.members = {root}
        self.seen: dict[str, int] = {}  # run id -> last sequence number sent
        self.versions: dict[str, int] = {}  # task id -> last card version sent

    def card(self, board_message: dict[str, Any]) -> dict[str, Any] | None:
        """The card of a board message if it belongs to the tree and is news."""
        task = board_message.get("task")
        if not task or (
            task["id"] not in self.members and task.get("parent_id") not in self.members
        ):
            return None
        self.members.add(task["id"])
        return task if self.newer(task) else None

    def newer(self, task: dict[str, Any]) -> bool:
        if task["version"] < self.versions.get(task["id"], -1):
            return False
        self.versions[task["id"]] = task["version"]
        return True

    def fresh(self, event: dict[str, Any]) -> bool:
        if event.get("task_id") not in self.members:
            return False
        if event["seq"] <= self.seen.get(event["run_id"], 0):
            return False
        self.seen[event["run_id"]] = event["seq"]
        return True

    async def live(self, c: Container, ws: str, event: dict[str, Any]) -> AsyncIterator[bytes]:
        """A live run event, after any of the run's events whose publication was missed."""
        last = self.seen.get(event["run_id"])
        if last is not None and event["seq"] > last + 1:
            async for chunk in self.catch_up(c, ws, [event["run_id"]]):
                yield chunk
        elif self.fresh(event):
            yield sse("run_event", event)

    async def catch_up(self, c: Container, ws: str, runs: list[str]) -> AsyncIterator[bytes]:
        """The stored events of these runs that were not sent (missed publications)."""
        for run_id in runs:
            for body in await stored_after(c, ws, run_id, self.seen.get(run_id, 0)):
                if self.fresh(body):
                    yield sse("run_event", body)


async def _history(c: Container, ws: str, tree: _Tree) -> AsyncIterator[bytes]:
    frontier = [tree.root]
    while frontier:
        task_id = frontier.pop(0)
        task = task_view(await c.tasks.get(ws, task_id))
        tree.newer(task)
        yield sse("task", task)
        for run in await c.runs.for_task(ws, task_id):
            for ev in await c.runs.events(ws, run.id, limit=100_000):
                data = ev.as_dict()
                if tree.fresh(data):
                    yield sse("run_event", data)
        children = await c.tasks.list(ws, TaskFilter(parent_id=task_id), Page(limit=500))
        for child in reversed(children):
            tree.members.add(child.id)
            frontier.append(child.id)


async def _task_tree(
    c: Container, p: Principal, task_id: str, sub: Subscription
) -> AsyncIterator[bytes]:
    ws = p.workspace_id
    tree = _Tree(task_id)
    board_subject = subjects.board(ws)
    events_prefix = subjects.run_events(ws, "")
    try:
        async for chunk in _history(c, ws, tree):
            yield chunk
        root = task_view(await c.tasks.get(ws, task_id))
        if _settled(root):
            yield sse("end", root)
            return
        while True:
            try:
                msg = await sub.next(timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                async for chunk in tree.catch_up(c, ws, list(tree.seen)):
                    yield chunk
                yield KEEPALIVE
                continue
            if _revokes(msg.subject, msg.data, p):
                yield sse("error", {"code": "not_authenticated", "message": "credential revoked"})
                return
            if msg.subject.startswith(events_prefix):
                async for chunk in tree.live(c, ws, FRAMES.get("json", msg.data, json.loads)):
                    yield chunk
                continue
            task = (
                tree.card(FRAMES.get("json", msg.data, json.loads))
                if msg.subject == board_subject
                else None
            )
            if task is None:
                continue
            yield sse("task", task)
            if task["id"] == task_id and _settled(task):
                async for chunk in tree.catch_up(c, ws, list(tree.seen)):
                    yield chunk
                yield sse("end", task)
                return
    finally:
        await sub.unsubscribe()
