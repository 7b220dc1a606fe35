"""A fake Swarmyard server for the command-line tests.

`FakeApi` keeps a small in-memory world and answers the HTTP contract the
CLI relies on (paths, bodies, error shape, Server-Sent Events). It runs
under uvicorn on a free loopback port in a background thread, so the CLI
is exercised over real HTTP. Every request is recorded with its headers,
which is how tests check idempotency keys, the workspace header and the
credential. Like the real server it refuses requests without a bearer it
knows (see `fake_auth`); the `cli` fixture gives the command the owner key
through a credentials file, as the server writes it on its first start.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fake_auth
import httpx
import pytest
import uvicorn
from fake_auth import FakeIdentity, write_credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from typer.testing import CliRunner, Result

from swarmyard.cli.main import app as cli_app
from swarmyard.domain.states import MANUAL_TASK_MOVES, TaskStatus
from swarmyard.domain.task import TASK_TYPES

Json = dict[str, Any]
NOW = "2025-03-01T10:00:00+00:00"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def problem(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status
    )


def manifest(ident: str, role: str, deps: Sequence[Json] = ()) -> Json:
    return {
        "id": ident,
        "name": ident.title(),
        "version": "1.0.0",
        "role": role,
        "description": f"The {role}.",
        "capabilities": [
            {
                "id": f"{role}-work",
                "name": "Work",
                "description": "Does the work.",
                "complexity": "high",
                "task_types": ["feature"],
            }
        ],
        "skills": ["python"],
        "model": {"tier": "mid", "preferred": ["offline"]},
        "allowed_tools": ["read_task"],
        "dependencies": list(deps),
        "system_prompt": f"You are the {role}.",
        "max_concurrent_tasks": 2,
        "max_steps": 20,
        "health_check": {},
        "builtin": True,
    }


class FakeApi:
    def __init__(self, url: str = "") -> None:
        self.url = url
        self.reset()

    def reset(self) -> None:
        self.requests: list[Recorded] = []
        self.identity = FakeIdentity()
        self.agents: dict[str, Json] = {}
        self.projects: dict[str, Json] = {}
        self.tasks: dict[str, Json] = {}
        self.runs: dict[str, Json] = {}
        self.events: dict[str, list[Json]] = {}
        self.schedules: dict[str, Json] = {}
        self.stories: dict[str, list[tuple[str, Json]]] = {}
        self.connections: Counter[str] = Counter()
        # Streams whose first connection drops early: path -> frames sent before.
        self.break_first: dict[str, int] = {}
        self._ids = itertools.count(1)
        self.catalog: list[Json] = [
            manifest("developer", "developer"),
            manifest("tester", "tester"),
            manifest("reviewer", "code-reviewer", [{"role": "developer", "min_version": "1.0.0"}]),
            manifest("lead", "project-manager", [{"role": "architect", "min_version": "1.2.0"}]),
        ]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    # -- seeding helpers used by tests -------------------------------------------
    def add_agent(self, name: str, role: str = "developer", **extra: Any) -> Json:
        agent = {
            "id": self.new_id("agt"),
            "name": name,
            "manifest_id": role,
            "manifest_version": "1.0.0",
            "role": role,
            "replicas": 1,
            "status": "active",
            "health": "healthy",
            "running": 0,
            "load": 0.0,
            "free_slots": 1,
            "uptime_seconds": 12,
            "tasks_succeeded": 3,
            "tasks_failed": 1,
            "tokens_in": 100,
            "tokens_out": 50,
            "cost_usd": 0.0123,
            "errors": 0,
            "created_at": NOW,
        } | extra
        self.agents[agent["id"]] = agent
        return agent

    def add_task(self, title: str, **extra: Any) -> Json:
        task = {
            "id": self.new_id("tsk"),
            "project_id": None,
            "title": title,
            "description": "",
            "type": "feature",
            "priority": "normal",
            "complexity": "medium",
            "required_role": None,
            "required_capabilities": [],
            "depends_on": [],
            "parent_id": None,
            "status": "todo",
            "assignee_agent_id": None,
            "result": None,
            "waiting_reason": None,
            "cost_usd": 0.0,
            "attempts": 0,
            "max_attempts": 2,
            "review_required": False,
            "created_at": NOW,
            "updated_at": NOW,
            "finished_at": None,
        } | extra
        self.tasks[task["id"]] = task
        return task

    def add_run(self, task_id: str, role: str, status: str = "running") -> Json:
        run = {
            "id": self.new_id("run"),
            "task_id": task_id,
            "agent_id": None,
            "role": role,
            "status": status,
            "attempt": 1,
            "model": "offline",
            "steps": 0,
            "tokens_in": 0,
            "tokens_out": 0,
            "cost_usd": 0.0,
            "output": None,
            "error": None,
            "assignment": {},
            "stop_requested": False,
            "created_at": NOW,
            "started_at": NOW,
            "finished_at": None,
        }
        self.runs[run["id"]] = run
        self.events[run["id"]] = []
        return run

    def add_event(self, run_id: str, kind: str, **payload: Any) -> Json:
        log = self.events[run_id]
        event = {
            "run_id": run_id,
            "task_id": self.runs[run_id]["task_id"],
            "seq": len(log) + 1,
            "type": kind,
            "at": NOW,
            "payload": payload,
        }
        log.append(event)
        return event

    def sent(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def mutations(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    # -- the story a task stream tells -------------------------------------------
    def story(self, root: Json) -> list[tuple[str, Json]]:
        """What agents do on `root`: a delegation, tool calls, an end. Applied to
        the store once; every connection to the stream replays it."""
        if root["id"] in self.stories:
            return self.stories[root["id"]]
        frames: list[tuple[str, Json]] = []
        dev = self.add_agent("dev-1", "developer")

        def task_frame(task: Json, **changes: Any) -> None:
            task.update(changes)
            frames.append(("task", dict(task)))

        def run_frame(run_id: str, kind: str, **payload: Any) -> None:
            frames.append(("run_event", self.add_event(run_id, kind, **payload)))

        if "patient" in root["title"]:
            task_frame(root, waiting_reason="no active agent has the role developer")
        task_frame(root, status="in_progress", assignee_agent_id=dev["id"])
        run = self.add_run(root["id"], "developer")
        run_frame(run["id"], "started")
        run_frame(
            run["id"],
            "llm_call",
            model="offline",
            provider="offline",
            offline=True,
            tokens_in=120,
            tokens_out=30,
            cost_usd=0.0,
            duration_ms=4,
            text="plan: delegate tests",
        )
        run_frame(run["id"], "tool_call", tool="read_task", args={"id": root["id"]}, call_id="c1")
        run_frame(run["id"], "tool_result", tool="read_task", call_id="c1", content="ok", ok=True)
        sub = self.add_task("Write tests", parent_id=root["id"], required_role="tester")
        run_frame(run["id"], "delegated", subtask_id=sub["id"], role="tester", title="Write tests")
        frames.append(("task", dict(sub)))
        sub_run = self.add_run(sub["id"], "tester")
        task_frame(sub, status="in_progress")
        run_frame(sub_run["id"], "started")
        run_frame(sub_run["id"], "completed", output="tests written")
        task_frame(sub, status="done", result="tests written")
        if "fail" in root["title"]:
            run_frame(run["id"], "error", message="the model gave up")
            task_frame(root, status="failed", waiting_reason="attempts exhausted")
        else:
            run_frame(run["id"], "completed", output="feature built")
            task_frame(root, status="done", result="feature built", cost_usd=0.0042)
        frames.append(("end", dict(root)))
        self.stories[root["id"]] = frames
        return frames


# ----------------------------------------------------------------------------- app

Handler = Callable[[FakeApi, Request, Any], Awaitable[Response]]


def page(items: list[Json], request: Request, size: int = 50) -> JSONResponse:
    start = int(request.query_params.get("cursor") or 0)
    size = int(request.query_params.get("limit") or size)
    more = start + size < len(items)
    return JSONResponse(
        {"items": items[start : start + size], "next_cursor": str(start + size) if more else None}
    )


def missing(kind: str, ident: str) -> JSONResponse:
    return problem(404, "not_found", f"{kind} {ident!r} not found", {"kind": kind, "id": ident})


async def healthz(api: FakeApi, request: Request, body: Any) -> Response:
    return JSONResponse({"status": "ok", "version": "0.1.0", "mode": "embedded"})


async def catalog(api: FakeApi, request: Request, body: Any) -> Response:
    if request.method == "GET":
        return page(api.catalog, request, size=2)  # small pages: the CLI must follow them
    problems = [
        {"path": key, "reason": "field required"}
        for key in ("id", "name", "version", "role")
        if key not in body
    ]
    problems += [
        {"path": f"capabilities.{i}.complexity", "reason": "not a known complexity"}
        for i, cap in enumerate(body.get("capabilities", []))
        if cap.get("complexity") not in ("low", "medium", "high", "critical")
    ]
    if problems:
        text = "; ".join(f"{p['path']}: {p['reason']}" for p in problems)
        return problem(422, "validation_failed", f"invalid manifest: {text}", problems)
    api.catalog.append(body | {"builtin": False})
    return JSONResponse(body | {"builtin": False}, status_code=201)


async def catalog_one(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    found = [item for item in api.catalog if item["id"] == ident]
    return JSONResponse(found[0]) if found else missing("manifest", ident)


async def agents(api: FakeApi, request: Request, body: Any) -> Response:
    if request.method == "GET":
        return page(list(api.agents.values()), request)
    found = [m for m in api.catalog if m["id"] == body["manifest"]]
    if not found:
        return missing("manifest", body["manifest"])
    roles = {a["role"] for a in api.agents.values()}
    absent = [d for d in found[0]["dependencies"] if d.get("role") not in roles]
    if absent:
        names = ", ".join(f"{d['role']} >= {d['min_version']}" for d in absent)
        return problem(
            409,
            "missing_dependencies",
            f"{body['manifest']} needs {names} installed first",
            {"missing": absent},
        )
    agent = api.add_agent(
        body.get("name") or f"{found[0]['id']}-1",
        found[0]["role"],
        replicas=body.get("replicas", 1),
        manifest_id=found[0]["id"],
    )
    return JSONResponse(agent, status_code=201)


async def agent(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    if ident not in api.agents:
        return missing("agent", ident)
    found = api.agents[ident]
    if request.method == "PATCH":
        found.update(body)
    if request.method != "DELETE":
        return JSONResponse(found)
    dependants = [
        a["name"]
        for a in api.agents.values()
        for m in api.catalog
        if a["manifest_id"] == m["id"]
        and any(d.get("role") == found["role"] for d in m["dependencies"])
    ]
    if dependants and request.query_params.get("force") != "true":
        return problem(
            409,
            "has_dependants",
            f"{', '.join(dependants)} depend(s) on {found['name']}; uninstall them "
            "first or force it",
            {"dependants": dependants},
        )
    del api.agents[ident]
    return Response(status_code=204)


async def projects(api: FakeApi, request: Request, body: Any) -> Response:
    if request.method == "GET":
        return page(list(api.projects.values()), request)
    project = {"id": api.new_id("prj"), "description": "", "workdir": None, "created_at": NOW}
    api.projects[project["id"]] = project | body
    return JSONResponse(project | body, status_code=201)


async def project(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    return JSONResponse(api.projects[ident]) if ident in api.projects else missing("project", ident)


_TASK_FILTERS = {
    "status": "status",
    "role": "required_role",
    "type": "type",
    "parent": "parent_id",
    "project": "project_id",
}


async def tasks(api: FakeApi, request: Request, body: Any) -> Response:
    q = request.query_params
    if request.method == "GET":
        items = [
            t
            for t in api.tasks.values()
            # a filter may list several values, comma-separated (statuses do)
            if all(
                t.get(key) in q[name].split(",") for name, key in _TASK_FILTERS.items() if name in q
            )
            and q.get("q", "").lower() in t["title"].lower()
        ]
        return page(items, request)
    problems = []
    if not body.get("title", "").strip():
        problems.append({"path": "title", "reason": "must not be empty"})
    if body.get("type") not in TASK_TYPES:
        problems.append({"path": "type", "reason": f"unknown task type {body.get('type')!r}"})
    if problems:
        return problem(422, "validation_failed", "invalid task", problems)
    fields = dict(body)
    return JSONResponse(api.add_task(fields.pop("title"), **fields), status_code=201)


async def task(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    if ident not in api.tasks:
        return missing("task", ident)
    found = api.tasks[ident]
    if request.method == "GET":
        return JSONResponse(found)
    target = body["status"] if request.method == "PATCH" else "cancelled"
    current = TaskStatus(found["status"])
    allowed = sorted(s.value for s in MANUAL_TASK_MOVES[current])
    if target not in allowed:
        return problem(
            409,
            "illegal_transition",
            f"task cannot move from {current.value!r} to {target!r} "
            f"(allowed from {current.value!r}: {', '.join(allowed) or 'none'})",
            {"from": current.value, "to": target, "allowed": allowed},
        )
    found["status"] = target
    return JSONResponse(found)


async def task_runs(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    return page([r for r in api.runs.values() if r["task_id"] == ident], request)


async def task_stream(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    if ident not in api.tasks:
        return missing("task", ident)
    story = api.story(api.tasks[ident])
    return _stream(api, request.url.path, [_sse(k, d, pretty=k == "task") for k, d in story])


async def run(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    return JSONResponse(api.runs[ident]) if ident in api.runs else missing("run", ident)


async def run_stop(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    if ident not in api.runs:
        return missing("run", ident)
    api.runs[ident]["stop_requested"] = True
    return JSONResponse(api.runs[ident], status_code=202)


async def run_events(api: FakeApi, request: Request, body: Any) -> Response:
    log = api.events.get(request.path_params["ident"], [])
    after = int(request.query_params.get("after") or 0)
    limit = int(request.query_params.get("limit") or 2)  # small pages, on purpose
    chunk = [e for e in log if e["seq"] > after][:limit]
    more = chunk and chunk[-1]["seq"] < log[-1]["seq"]
    return JSONResponse({"items": chunk, "next_after": chunk[-1]["seq"] if more else None})


async def run_stream(api: FakeApi, request: Request, body: Any) -> Response:
    log = api.events.get(request.path_params["ident"], [])
    after = int(request.headers.get("last-event-id") or 0)
    frames = [f"id: {e['seq']}\n" + _sse(e["type"], e) for e in log if e["seq"] > after]
    return _stream(api, request.url.path, frames)


async def board(api: FakeApi, request: Request, body: Any) -> Response:
    wanted = request.query_params.get("project")
    columns: dict[str, list[Json]] = {s.value: [] for s in TaskStatus}
    for t in api.tasks.values():
        if wanted is None or t["project_id"] == wanted:
            columns[t["status"]].append(t)
    return JSONResponse({"columns": columns})


async def schedules(api: FakeApi, request: Request, body: Any) -> Response:
    if request.method == "GET":
        return page(list(api.schedules.values()), request)
    if len(body["cron"].split()) != 5:
        return problem(
            422,
            "validation_failed",
            "invalid schedule",
            [{"path": "cron", "reason": "a cron expression has 5 fields"}],
        )
    schedule = {
        "id": api.new_id("sch"),
        "timezone": "UTC",
        "missed": "skip",
        "enabled": True,
        "next_run_at": NOW,
        "last_run_at": None,
        "runs": 0,
    } | body
    api.schedules[schedule["id"]] = schedule
    return JSONResponse(schedule, status_code=201)


async def schedule(api: FakeApi, request: Request, body: Any) -> Response:
    ident = request.path_params["ident"]
    if ident not in api.schedules:
        return missing("schedule", ident)
    if request.method == "DELETE":
        del api.schedules[ident]
        return Response(status_code=204)
    if request.method == "PATCH":
        if not isinstance(body.get("enabled"), bool):
            reason = [{"path": "enabled", "reason": "must be true or false"}]
            return problem(422, "validation_failed", "invalid schedule change", reason)
        api.schedules[ident]["enabled"] = body["enabled"]
    return JSONResponse(api.schedules[ident])


V1 = "/api/v1"
ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/healthz", healthz, ["GET"]),
    (f"{V1}/catalog", catalog, ["GET", "POST"]),
    (f"{V1}/catalog/{{ident}}", catalog_one, ["GET"]),
    (f"{V1}/agents", agents, ["GET", "POST"]),
    (f"{V1}/agents/{{ident}}", agent, ["GET", "PATCH", "DELETE"]),
    (f"{V1}/projects", projects, ["GET", "POST"]),
    (f"{V1}/projects/{{ident}}", project, ["GET"]),
    (f"{V1}/tasks", tasks, ["GET", "POST"]),
    (f"{V1}/tasks/{{ident}}", task, ["GET", "PATCH", "DELETE"]),
    (f"{V1}/tasks/{{ident}}/runs", task_runs, ["GET"]),
    (f"{V1}/tasks/{{ident}}/stream", task_stream, ["GET"]),
    (f"{V1}/runs/{{ident}}", run, ["GET"]),
    (f"{V1}/runs/{{ident}}/stop", run_stop, ["POST"]),
    (f"{V1}/runs/{{ident}}/events", run_events, ["GET"]),
    (f"{V1}/runs/{{ident}}/stream", run_stream, ["GET"]),
    (f"{V1}/board", board, ["GET"]),
    (f"{V1}/schedules", schedules, ["GET", "POST"]),
    (f"{V1}/schedules/{{ident}}", schedule, ["GET", "PATCH", "DELETE"]),
    *fake_auth.ROUTES,
]


def build_app(api: FakeApi) -> Starlette:
    """The routes above, each recording its request, then checking its
    credential, before answering."""

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            raw = await request.body()
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in request.headers.items()}
            api.requests.append(
                Recorded(
                    request.method, request.url.path, dict(request.query_params), headers, body
                )
            )
            refusal = api.identity.gate(request)
            if refusal is not None:
                return refusal
            return await handler(api, request, body)

        return answer

    return Starlette(routes=[Route(p, endpoint(h), methods=m) for p, h, m in ROUTES])


def _sse(kind: str, data: Json, *, pretty: bool = False) -> str:
    """One SSE frame. `pretty` spreads the JSON over several ``data:`` lines,
    which a correct client joins back together."""
    text = json.dumps(data, indent=1 if pretty else None)
    return f"event: {kind}\n" + "".join(f"data: {line}\n" for line in text.splitlines()) + "\n"


def _stream(api: FakeApi, path: str, frames: list[str]) -> StreamingResponse:
    api.connections[path] += 1
    cut = api.break_first.get(path) if api.connections[path] == 1 else None

    async def body() -> AsyncIterator[str]:
        yield "retry: 100\n: keepalive\n\n"
        for n, frame in enumerate(frames):
            if cut is not None and n == cut:
                return  # the connection drops mid-story
            yield frame
            await asyncio.sleep(0.005)

    return StreamingResponse(body(), media_type="text/event-stream")


# ------------------------------------------------------------------------ fixtures


@dataclass
class ServerHandle:
    api: FakeApi
    url: str


@pytest.fixture(scope="session")
def fake_server() -> Iterator[ServerHandle]:
    api = FakeApi()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    api.url = url
    config = uvicorn.Config(
        build_app(api),
        log_level="warning",
        lifespan="off",
        ws="none",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait_until_answering(url, thread)
    yield ServerHandle(api, url)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _wait_until_answering(url: str, thread: threading.Thread, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the fake server thread died while starting")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the fake server at {url} did not answer within {timeout}s")


@pytest.fixture
def fake(fake_server: ServerHandle) -> FakeApi:
    fake_server.api.reset()
    return fake_server.api


# Variables of the person's shell that would change what the CLI does.
CLEAN_ENV: dict[str, str | None] = {
    "SWARMYARD_URL": None,
    "SWARMYARD_WORKSPACE": None,
    "SWARMYARD_API_KEY": None,
    "SWARMYARD_DATA_DIR": None,
    "SWARMYARD_DEBUG": None,
    "TTY_COMPATIBLE": None,
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "COLUMNS": "200",
}


Invoke = Callable[..., Result]


@pytest.fixture
def data_dir(fake: FakeApi, tmp_path: Path) -> Path:
    """The CLI's data directory, holding the fake server's owner key."""
    path = tmp_path / "data"
    write_credentials(path, url=fake.url)
    return path


@pytest.fixture
def cli(fake: FakeApi, data_dir: Path) -> Invoke:
    """Run ``swarmyard --url <fake> ARGS...`` (``url=None``: no ``--url``), with
    `env` on top of an environment cleared of the person's own settings and
    pointing at `data_dir`."""

    def invoke(
        *args: str,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
        url: str | None = fake.url,
    ) -> Result:
        head = ["--url", url] if url else []
        environment = CLEAN_ENV | {"SWARMYARD_DATA_DIR": str(data_dir)} | (env or {})
        return CliRunner().invoke(cli_app, [*head, *args], input=input, env=environment)

    return invoke
