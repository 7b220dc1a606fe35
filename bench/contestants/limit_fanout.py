"""The limit of S5 (event fan-out): plain Starlette + uvicorn, a broadcaster
with one asyncio queue per subscriber, no framework, no store, no bus.

Each event is encoded once and put on every subscriber's queue; each
WebSocket or SSE connection sends what its queue holds. It speaks the
little of Swarmyard's protocol the shared subscribers (`_fanout_clients.py`)
use: the WebSocket answers a subscribe message with `{"ok": …}` and sends
`{"topic": "run", "event": …}`; SSE sends `data:` lines of the event. No
authentication, no sequence bookkeeping, no persistence: what fan-out
costs on this machine with nothing else in the way.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import contestant_main, emit, versions
from _fanout_clients import Target, run_rounds
from _load import Processes

from swarmyard.testing.cluster import clean_env, free_port

RUN_ID = "run_limit"


async def serve(directory: Path, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import StreamingResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    queues: set[asyncio.Queue[str]] = set()

    async def ws_endpoint(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        q: asyncio.Queue[str] = asyncio.Queue()
        queues.add(q)
        try:
            await ws.send_text(json.dumps({"ok": {"subscribe": "run", "run_id": RUN_ID}}))
            while True:
                body = await q.get()
                await ws.send_text('{"topic":"run","event":' + body + "}")
        finally:
            queues.discard(q)

    async def sse_endpoint(_: Request) -> StreamingResponse:
        q: asyncio.Queue[str] = asyncio.Queue()
        queues.add(q)

        async def frames() -> AsyncIterator[bytes]:
            try:
                yield b": ok\n\n"
                while True:
                    yield b"data: " + (await q.get()).encode() + b"\n\n"
            finally:
                queues.discard(q)

        return StreamingResponse(frames(), media_type="text/event-stream")

    async def publisher() -> None:
        k, seq = 0, 0
        while True:
            go = directory / f"go-{k}.json"
            if not go.exists():
                await asyncio.sleep(0.02)
                continue
            spec = json.loads(go.read_text())
            for _ in range(int(spec["events"])):
                seq += 1
                body = json.dumps({"seq": seq, "payload": {"t_pub": time.time()}})
                for q in queues:
                    q.put_nowait(body)
                await asyncio.sleep(float(spec["interval_s"]))
            (directory / f"done-{k}").write_text(str(seq))
            k += 1

    routes = [Route("/sse", sse_endpoint), WebSocketRoute("/ws", ws_endpoint)]
    app = Starlette(routes=routes)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    job = asyncio.create_task(publisher())
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    ready = {"port": port, "api_key": "none", "run_id": RUN_ID, "seq": 0}
    (directory / "ready.json").write_text(json.dumps(ready))
    try:
        await serving
    finally:
        job.cancel()


def s5(params: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="limit-s5-") as d:
        directory = Path(d)
        (directory / "logs").mkdir()
        with Processes(directory / "logs") as procs:
            argv = [sys.executable, __file__, "--serve", d, str(free_port())]
            procs.start("server", argv, clean_env())
            target = Target(
                directory,
                ws_path="/ws",
                sse_path=lambda run, after: "/sse",
                ws_subscribe=lambda run, after: {"subscribe": "run", "run_id": run},
            )
            try:
                metrics, notes = run_rounds(target, params)
            except (TimeoutError, RuntimeError) as exc:
                raise SystemExit(f"{exc}\n{procs.tail()}") from None
    notes.insert(
        0, "Starlette + uvicorn, one asyncio queue per subscriber, each event encoded once"
    )
    emit(metrics, versions=versions("uvicorn", "starlette", "websockets"), notes=notes)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(Path(sys.argv[2]), int(sys.argv[3])))
    else:
        contestant_main({"S5": s5})
