"""The limit harness of S1 (end to end) and S6 (dispatch): what this machine
allows for the same work with no platform in the way.

Plain Starlette + uvicorn (the same server stack and defaults Swarmyard
runs on) + asyncio, no framework, serving exactly the part of Swarmyard's
API that the shared load client (`_load.py`) uses: POST /api/v1/tasks,
GET /api/v1/tasks/{id}/runs, /readyz and the board topic of WS /ws.

The same work and the same persistence per task as a Swarmyard run of the
benchmark's agent: a task row (insert, then moved to in_progress and to
done with its result), a run row (inserted at the claim, its counters and
conversation checkpoint updated at every step, finished with its output),
and nine event rows (started, routing, step, llm_call, tool_call,
tool_result, step, llm_call, completed). The fake model asks for
`list_tasks` and then answers; the tool reads the 25 newest tasks from the
database. Each step's rows are committed before the step's events are
published (board messages to WebSocket subscribers), like Swarmyard does.
What it leaves out: authorization beyond one key, audit log, outbox rows,
agent slots and scoring, the model router's ledger, learning profiles.

Every write goes through one group-commit writer per process: a task that
commits whatever accumulated while the previous commit ran, one
transaction and one executemany per statement, not a commit per row.

embedded (S1): one process; SQLite (WAL, synchronous=NORMAL, as Swarmyard's
SQLite store) on a writer thread, reads on another; 200 in-process workers.
cluster (S1, S6): an API process and N worker processes on PostgreSQL
(asyncpg) and NATS: the API commits the task, puts it on a JetStream
work-queue stream (awaiting the ack) and answers; workers pull in batches,
run it, and publish board and run events on core NATS, which the API
forwards to its WebSocket subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
import sys
import tempfile
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg
import nats
import uvicorn
from _common import contestant_main, emit, versions
from _load import (
    PICKUP_NOTE,
    Processes,
    Target,
    dispatch_metrics,
    drop_streams,
    measure,
    postgres_database,
    wait_ready,
)
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

WORKERS = 200  # runs driven at once per process, Swarmyard's worker concurrency
SCHEMA = (
    "CREATE TABLE tasks (id TEXT PRIMARY KEY, workspace_id TEXT, title TEXT, type TEXT,"
    " required_role TEXT, status TEXT, result TEXT, version INTEGER, created_at TEXT,"
    " updated_at TEXT)",
    "CREATE INDEX tasks_newest ON tasks (workspace_id, created_at)",
    "CREATE INDEX tasks_column ON tasks (workspace_id, status, created_at)",
    "CREATE TABLE runs (id TEXT PRIMARY KEY, task_id TEXT, status TEXT, attempt INTEGER,"
    " steps INTEGER, tokens_in INTEGER, tokens_out INTEGER, checkpoint BLOB, output TEXT,"
    " created_at TEXT, started_at TEXT, finished_at TEXT)",
    "CREATE INDEX runs_task ON runs (task_id)",
    "CREATE TABLE run_events (run_id TEXT, seq INTEGER, type TEXT, at TEXT, payload TEXT,"
    " PRIMARY KEY (run_id, seq))",
)
NEW_TASK = "INSERT INTO tasks VALUES (?, 'default', ?, ?, ?, 'todo', NULL, 0, ?, ?)"
CLAIM = "INSERT INTO runs VALUES (?, ?, 'running', 1, 0, 0, 0, NULL, NULL, ?, ?, NULL)"
EVENT = "INSERT INTO run_events VALUES (?, ?, ?, ?, ?)"
MOVE = "UPDATE tasks SET status = ?, result = ?, version = version + 1, updated_at = ? WHERE id = ?"
STEP = "UPDATE runs SET steps = ?, tokens_in = ?, tokens_out = ?, checkpoint = ? WHERE id = ?"
FINISH = (
    "UPDATE runs SET status = 'succeeded', steps = ?, tokens_in = ?, tokens_out = ?,"
    " checkpoint = ?, output = ?, finished_at = ? WHERE id = ?"
)
ORDER = (NEW_TASK, CLAIM, EVENT, MOVE, STEP, FINISH)  # runs exist before their updates
NEWEST = "SELECT id, title, type, status FROM tasks WHERE workspace_id = 'default'"
NEWEST += " ORDER BY created_at DESC LIMIT 25"
RUNS = "SELECT id, status, created_at, started_at, finished_at FROM runs WHERE task_id = ?"

Op = tuple[str, tuple[Any, ...]]


def now() -> str:
    return datetime.now(UTC).isoformat()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def pg(sql: str) -> str:
    """`?` placeholders as asyncpg's `$n`."""
    parts = sql.replace("BLOB", "BYTEA").split("?")
    return parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], 1))


class Writer:
    """Group commit: `write` waits until its ops are committed together with
    whatever else was queued while the previous transaction ran."""

    def __init__(
        self, commit: Callable[[list[tuple[str, list[tuple[Any, ...]]]]], Awaitable[None]]
    ):
        self._commit = commit
        self._queued: list[tuple[list[Op], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def write(self, ops: list[Op]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queued.append((ops, done))
        self._wake.set()
        await done

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queued = self._queued, []
            rows: dict[str, list[tuple[Any, ...]]] = {sql: [] for sql in ORDER}
            for ops, _ in batch:
                for sql, args in ops:
                    rows[sql].append(args)
            try:
                await self._commit([(sql, rows[sql]) for sql in ORDER if rows[sql]])
            except Exception as exc:  # every writer in the batch learns it failed
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)


class Store:
    """Writes through the group-commit writer; the reads the work needs."""

    writer: Writer

    async def newest(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def runs(self, task_id: str) -> list[dict[str, Any]]:
        raise NotImplementedError


class Sqlite(Store):
    def __init__(self, path: Path) -> None:
        self._w, self._r = ThreadPoolExecutor(1), ThreadPoolExecutor(1)
        self._wconn = self._connect(path, schema=True)
        self._rconn = self._connect(path)
        self.writer = Writer(self._commit)

    @staticmethod
    def _connect(path: Path, *, schema: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        for pragma in ("busy_timeout=5000", "journal_mode=WAL", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        for statement in SCHEMA if schema else ():
            conn.execute(statement)
        conn.row_factory = sqlite3.Row
        return conn

    def _commit_now(self, groups: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        self._wconn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in groups:
                self._wconn.executemany(sql, rows)
        except BaseException:
            self._wconn.execute("ROLLBACK")
            raise
        self._wconn.execute("COMMIT")

    async def _commit(self, groups: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._w, self._commit_now, groups)

    async def _read(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            return [dict(r) for r in self._rconn.execute(sql, args)]

        return await asyncio.get_running_loop().run_in_executor(self._r, read)

    async def newest(self) -> list[dict[str, Any]]:
        return await self._read(NEWEST)

    async def runs(self, task_id: str) -> list[dict[str, Any]]:
        return await self._read(RUNS, task_id)


class Postgres(Store):
    def __init__(self, pool: asyncpg.Pool, writer_conn: asyncpg.Connection) -> None:
        self._pool, self._conn = pool, writer_conn
        self.writer = Writer(self._commit)

    @classmethod
    async def open(cls, dsn: str) -> Postgres:
        return cls(
            await asyncpg.create_pool(dsn, min_size=2, max_size=4), await asyncpg.connect(dsn)
        )

    async def _commit(self, groups: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        async with self._conn.transaction():
            for sql, rows in groups:
                await self._conn.executemany(pg(sql), rows)

    async def newest(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._pool.fetch(pg(NEWEST))]

    async def runs(self, task_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._pool.fetch(pg(RUNS), task_id)]


class Hub:
    """The WebSocket sessions of this process and what they subscribed to."""

    def __init__(self) -> None:
        self.board: set[asyncio.Queue[str]] = set()

    def publish_board(self, text: str) -> None:
        for queue in self.board:
            queue.put_nowait(text)


# ------------------------------------------------------------------ the work


def card(task: dict[str, Any], status: str, result: str | None, previous: str | None) -> bytes:
    view = {**task, "status": status, "result": result, "updated_at": now()}
    return dumps({"kind": "task", "task": view, "previous_status": previous}).encode()


async def run_task(
    store: Store,
    task: dict[str, Any],
    publish: Callable[[str, bytes], Awaitable[None]],
    who: str,
) -> None:
    """Claim, the two model calls around the tool call, finish: four commits."""
    run_id, task_id = f"run_{uuid.uuid4().hex}", task["id"]
    seq = 0

    def event(kind: str, payload: dict[str, Any]) -> tuple[Op, bytes]:
        nonlocal seq
        seq += 1
        body = {"run_id": run_id, "task_id": task_id, "seq": seq, "type": kind, "at": now()}
        text = dumps({**body, "payload": payload})
        return (EVENT, (run_id, seq, kind, body["at"], dumps(payload))), text.encode()

    async def commit(events: list[tuple[Op, bytes]], *ops: Op) -> None:
        await store.writer.write([*(op for op, _ in events), *ops])
        for _, text in events:
            await publish(f"run.{run_id}", text)

    started = now()
    first = [event("started", {"agent": who, "role": "pm"})]
    await commit(
        first,
        (CLAIM, (run_id, task_id, started, started)),
        (MOVE, ("in_progress", None, started, task_id)),
    )
    await publish("board", card(task, "in_progress", None, "todo"))
    conversation: list[dict[str, Any]] = [{"role": "user", "content": f"Plan: {task['title']}"}]
    call = {"tool": "list_tasks", "args": {}, "call_id": f"call_{run_id[-24:]}"}
    conversation.append({"role": "assistant", "text": "Checking the board.", "calls": [call]})
    llm = {"model": "fake", "provider": "bench", "tokens_in": 109, "tokens_out": 16}
    step = [
        event("routing", {"model": "bench:fake", "chain": ["bench:fake"], "tier": "fast"}),
        event("step", {"step": 1}),
        event("llm_call", llm),
        event("tool_call", call),
    ]
    await commit(step, (STEP, (1, 109, 16, dumps(conversation).encode(), run_id)))
    content = dumps({"tasks": await store.newest()})
    conversation.append({"role": "tool", "call_id": call["call_id"], "content": content})
    result = [
        event(
            "tool_result",
            {"tool": "list_tasks", "call_id": call["call_id"], "ok": True, "content": content},
        )
    ]
    await commit(result, (STEP, (1, 109, 16, dumps(conversation).encode(), run_id)))
    answer = plan(task["title"], json.loads(content)["tasks"])
    conversation.append({"role": "assistant", "text": answer})
    end = [
        event("step", {"step": 2}),
        event("llm_call", {**llm, "tokens_out": 127}),
        event("completed", {"output": answer}),
    ]
    done = now()
    checkpoint = dumps(conversation).encode()
    await commit(
        end,
        (FINISH, (2, 264, 143, checkpoint, answer, done, run_id)),
        (MOVE, ("done", answer, done, task_id)),
    )
    await publish("board", card(task, "done", answer, "in_progress"))


def plan(title: str, board: list[dict[str, Any]]) -> str:
    """The fake model's answer: a plan about as long as the offline model's."""
    counts: dict[str, int] = {}
    for t in board:
        counts[t["status"]] = counts.get(t["status"], 0) + 1
    spread = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    steps = ["Agree the design — architect, 1 day", f"{title} — developer, 2 days"]
    steps += ["Test the result — tester, 1 day", "Document it — documenter, 1 day"]
    return "\n".join(
        [f"Plan: {title}", f"Board: {len(board)} tasks now ({spread}).", "Work breakdown:"]
        + [f"{i}. {s}" for i, s in enumerate(steps, 1)]
        + ["Milestones: design agreed (day 1), complete (day 3), tested (day 5).", "Risks: none."]
    )


# ------------------------------------------------------------------ the API


class Api:
    """POST /api/v1/tasks, GET /api/v1/tasks/{id}/runs, /readyz and WS /ws (board topic)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.hub = Hub()
        self.admitted = asyncio.Semaphore(cfg["admit"])
        self.mine: set[str] = set()
        self.store: Store
        self.publish: Callable[[str, bytes], Awaitable[None]]
        self.dispatch: Callable[[dict[str, Any]], Awaitable[None]]

    def app(self) -> Starlette:
        routes = [
            Route("/api/v1/tasks", self.create, methods=["POST"]),
            Route("/api/v1/tasks/{task_id}/runs", self.task_runs),
            Route("/readyz", lambda _: Response("ready")),
            WebSocketRoute("/ws", self.live),
        ]
        return Starlette(routes=routes, lifespan=lambda _: self.running())

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("authorization") == f"Bearer {self.cfg['key']}")

    async def local_event(self, subject: str, data: bytes) -> None:
        if subject == "board":
            self.hub.publish_board(board_frame(data))
            card = json.loads(data)["task"]
            if card["status"] == "done" and card["id"] in self.mine:
                self.mine.discard(card["id"])
                self.admitted.release()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if "dsn" not in self.cfg:
            async with self.embedded():
                yield
            return
        self.store = await Postgres.open(self.cfg["dsn"])
        nc = await nats.connect("nats://127.0.0.1:4222")
        js = nc.jetstream()
        ns = self.cfg["ns"]

        async def forward(msg: Any) -> None:
            await self.local_event(msg.subject.removeprefix(f"{ns}.ev."), msg.data)

        async def publish(subject: str, data: bytes) -> None:
            await nc.publish(f"{ns}.ev.{subject}", data)

        async def dispatch(task: dict[str, Any]) -> None:
            data = dumps(task).encode()
            await js.publish(f"{ns}.work", data, headers={"Nats-Msg-Id": task["id"]})

        await nc.subscribe(f"{ns}.ev.>", cb=forward)
        self.publish, self.dispatch = publish, dispatch
        try:
            yield
        finally:
            await nc.close()

    @contextlib.asynccontextmanager
    async def embedded(self) -> AsyncIterator[None]:
        self.store = Sqlite(Path(self.cfg["db"]))
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def worker(n: int) -> None:
            while True:
                await run_task(self.store, await queue.get(), self.local_event, f"worker-{n}")

        async def dispatch(task: dict[str, Any]) -> None:
            queue.put_nowait(task)

        self.publish, self.dispatch = self.local_event, dispatch
        workers = [asyncio.create_task(worker(n)) for n in range(WORKERS)]
        try:
            yield
        finally:
            for w in workers:
                w.cancel()

    async def create(self, request: Request) -> Response:
        if not self.authorized(request.headers):
            return JSONResponse({"error": {"code": "not_authenticated"}}, status_code=401)
        body = await request.json()
        title, type_ = body.get("title"), body.get("type")
        if not isinstance(title, str) or not isinstance(type_, str):
            return JSONResponse({"error": {"code": "validation_failed"}}, status_code=422)
        await self.admitted.acquire()
        stamp = now()
        task = {"id": f"task_{uuid.uuid4().hex}", "title": title, "type": type_}
        self.mine.add(task["id"])
        task |= {"required_role": body.get("required_role"), "status": "todo", "result": None}
        task |= {"version": 0, "created_at": stamp, "updated_at": stamp}
        row = (task["id"], title, type_, task["required_role"], stamp, stamp)
        await self.store.writer.write([(NEW_TASK, row)])
        await self.publish("board", card(task, "todo", None, None))
        await self.dispatch(task)
        return JSONResponse(task, status_code=201)

    async def task_runs(self, request: Request) -> Response:
        if not self.authorized(request.headers):
            return JSONResponse({"error": {"code": "not_authenticated"}}, status_code=401)
        items = await self.store.runs(request.path_params["task_id"])
        return JSONResponse({"items": items, "next_cursor": None})

    async def live(self, ws: WebSocket) -> None:
        if not self.authorized(ws.headers):
            await ws.close(code=4401)
            return
        await ws.accept()
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def pump() -> None:
            while True:
                await ws.send_text(await queue.get())

        sender = asyncio.create_task(pump())
        try:
            while True:
                msg = json.loads(await ws.receive_text())
                if msg.get("subscribe") == "board":
                    self.hub.board.add(queue)
                    queue.put_nowait(dumps({"ok": msg}))
                else:
                    queue.put_nowait(dumps({"error": "unknown topic; use board"}))
        except WebSocketDisconnect:
            pass
        finally:
            self.hub.board.discard(queue)
            sender.cancel()


def board_frame(data: bytes) -> str:
    # The stored body goes out inside the frame as it is: no parse, no re-encode.
    return '{"topic":"board","data":' + data.decode() + "}"


def serve_api(cfg: dict[str, Any]) -> None:
    uvicorn.run(Api(cfg).app(), host="127.0.0.1", port=cfg["port"], log_level="warning")


# ------------------------------------------------------------------ cluster workers


class Puller:
    """Pull requests of `batch` messages, as many as free capacity allows; a
    request's messages come as soon as they are in the stream (no batching delay)."""

    EXPIRES = 2.0

    def __init__(
        self, nc: Any, stream: str, durable: str, handle: Callable[[Any], Awaitable[None]]
    ):
        self.nc, self.handle = nc, handle
        self.next = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.batch, self.running = 32, 0
        self.requests: deque[list[float]] = deque()  # [expiry, messages still owed]
        self.loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()  # held, or the loop may drop them

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        await self.nc.subscribe(self.inbox, cb=self._on_message)
        self._spawn(self._tick())

    def _owed(self) -> int:
        while self.requests and self.requests[0][0] < self.loop.time():
            self.requests.popleft()
        return int(sum(r[1] for r in self.requests))

    async def _top_up(self) -> None:
        while WORKERS - self.running - self._owed() >= self.batch:
            self.requests.append([self.loop.time() + self.EXPIRES, self.batch])
            body = dumps({"batch": self.batch, "expires": int(self.EXPIRES * 1e9)})
            await self.nc.publish(self.next, body.encode(), reply=self.inbox)

    async def _tick(self) -> None:
        while True:  # requests expire: ask again for what they did not bring
            await self._top_up()
            await asyncio.sleep(self.EXPIRES / 4)

    async def _on_message(self, msg: Any) -> None:
        if msg.headers and msg.headers.get("Status"):
            return  # end of a request (expired or full): _tick asks again
        if self._owed() and self.requests:
            self.requests[0][1] -= 1
            if self.requests[0][1] <= 0:
                self.requests.popleft()
        self.running += 1
        self._spawn(self._run(msg))

    async def _run(self, msg: Any) -> None:
        try:
            await self.handle(msg)
        finally:
            self.running -= 1
            await self._top_up()


async def worker_main(cfg: dict[str, Any]) -> None:
    store = await Postgres.open(cfg["dsn"])
    nc = await nats.connect("nats://127.0.0.1:4222")
    ns = cfg["ns"]

    async def publish(subject: str, data: bytes) -> None:
        await nc.publish(f"{ns}.ev.{subject}", data)

    async def handle(msg: Any) -> None:
        await run_task(store, json.loads(msg.data), publish, cfg["name"])
        await msg.ack()

    await Puller(nc, f"{ns}_WORK", "workers", handle).start()
    await asyncio.to_thread(Path(cfg["ready"]).touch)
    await asyncio.Event().wait()


ROLES: dict[str, Callable[[dict[str, Any]], None]] = {
    "_api": serve_api,
    "_worker": lambda cfg: asyncio.run(worker_main(cfg)),
}


# ------------------------------------------------------------------ the contestant


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child(role: str, cfg: dict[str, Any]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), role, dumps(cfg)]


@contextlib.asynccontextmanager
async def embedded(tmp: Path) -> AsyncIterator[Target]:
    cfg = {"port": free_port(), "key": secrets.token_urlsafe(24), "db": str(tmp / "limit.db")}
    cfg["admit"] = WORKERS
    with Processes(tmp) as procs:
        api = procs.start("api", child("_api", cfg), dict(os.environ))
        wait_ready(f"http://127.0.0.1:{cfg['port']}/readyz", alive=lambda: api.poll() is None)
        yield Target(cfg["port"], cfg["key"], [api.pid])


@contextlib.asynccontextmanager
async def cluster(tmp: Path, workers: int) -> AsyncIterator[Target]:
    ns = f"LIMIT_{secrets.token_hex(4)}"
    async with postgres_database("limit_bench") as dsn:
        conn = await asyncpg.connect(dsn)
        for statement in SCHEMA:
            await conn.execute(pg(statement))
        await conn.close()
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            js = nc.jetstream()
            work = StreamConfig(
                name=f"{ns}_WORK", subjects=[f"{ns}.work"], retention=RetentionPolicy.WORK_QUEUE
            )
            await js.add_stream(work)
            durable = ConsumerConfig(
                durable_name="workers",
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30,
                max_ack_pending=-1,
            )
            await js.add_consumer(work.name, durable)
            cfg = {"port": free_port(), "key": secrets.token_urlsafe(24), "dsn": dsn, "ns": ns}
            cfg["admit"] = WORKERS * workers
            with Processes(tmp) as procs:
                api = procs.start("api", child("_api", cfg), dict(os.environ))
                pids = [api.pid]
                for i in range(workers):
                    wcfg = {**cfg, "name": f"worker-{i}", "ready": str(tmp / f"ready-{i}")}
                    pids.append(
                        procs.start(f"worker-{i}", child("_worker", wcfg), dict(os.environ)).pid
                    )
                wait_ready(
                    f"http://127.0.0.1:{cfg['port']}/readyz", alive=lambda: api.poll() is None
                )
                for i in range(workers):
                    while not (tmp / f"ready-{i}").exists():
                        if any(p.poll() is not None for p in procs.started):
                            raise RuntimeError(f"a harness process died\n{procs.tail()}")
                        await asyncio.sleep(0.1)
                yield Target(cfg["port"], cfg["key"], pids, dsn)
        finally:
            await nc.close()
            await drop_streams(f"{ns}_WORK")


NOTES = (
    "plain Starlette + uvicorn (Swarmyard's server stack, same defaults) + asyncio; "
    "per task: task row (insert, in_progress, done with result), run row (insert at "
    "claim, counters + conversation checkpoint each step, finish), 9 event rows "
    "(started, routing, step, llm_call, tool_call, tool_result, step, llm_call, completed); "
    "the tool reads the 25 newest tasks; 5 commits per task, all through one group-commit "
    "writer per process; board messages todo → in_progress → done on the WebSocket; "
    "no auth beyond one key, no audit, outbox, slots, scoring, ledger or learning"
)


def where(mode: str, workers: int) -> str:
    if mode == "embedded":
        return f"one process: SQLite (WAL, synchronous=NORMAL) + {WORKERS} in-process workers"
    return (
        f"API process + {workers} worker processes ({WORKERS} runs each) on PostgreSQL "
        "(asyncpg) + NATS: JetStream work queue (publish acked before the 201), batched pulls"
    )


async def s1(params: dict[str, Any]) -> None:
    mode, tasks = str(params.get("mode", "embedded")), int(params.get("tasks", 10000))
    if mode not in ("embedded", "cluster"):
        raise SystemExit(f"unknown mode {mode!r}: embedded or cluster")
    with tempfile.TemporaryDirectory(prefix="limit-s1-") as d:
        async with embedded(Path(d)) if mode == "embedded" else cluster(Path(d), 2) as target:
            res, setup = await measure(target, params, tasks)
    notes = [where(mode, 2), NOTES]
    if res.timed_out or res.errors:
        notes.append(f"{len(res.done)} of {tasks} done; {len(res.errors)} submit errors")
    emit({"mode": mode, **res.metrics(), **setup}, versions=VERSIONS, notes=notes)


async def s6(params: dict[str, Any]) -> None:
    tasks, workers = int(params.get("tasks", 3000)), int(params.get("workers", 2))
    with tempfile.TemporaryDirectory(prefix="limit-s6-") as d:
        async with cluster(Path(d), workers) as target:
            res, setup = await measure(target, params, tasks)
            dispatch = await dispatch_metrics(target, res, int(params.get("idle_tasks", 30)))
    notes = [where("cluster", workers), NOTES, PICKUP_NOTE]
    emit({"tasks": tasks, **dispatch, **setup}, versions=VERSIONS, notes=notes)


VERSIONS = versions("starlette", "uvicorn", "asyncpg", "nats-py", "websockets")

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ROLES:
        ROLES[sys.argv[1]](json.loads(sys.argv[2]))
    else:
        contestant_main({"S1": lambda p: asyncio.run(s1(p)), "S6": lambda p: asyncio.run(s6(p))})
