"""Swarmyard's event fan-out (S5): subscribers on one run's events over the
workspace WebSocket (`/ws`, `{"subscribe": "run"}`) and SSE
(`GET /api/v1/runs/{id}/stream`), the API key's real authentication on each.

The server is the embedded platform (`swarmyard serve`'s app and container,
SQLite, the in-process bus) in a child process, with its worker loop off:
this script's own server part claims one run and writes its steps, each
with one `progress` event, through `Lifecycle.record` — the agent loop's
path: the event stored in the step's transaction, announced after commit,
relayed to the bus, fanned out by the API to every subscriber. The publish
time is stamped just before `record`, so the store write counts too.
The subscribers (`_fanout_clients.py`, shared with the limit harness)
run in this process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import contestant_main, emit, versions
from _fanout_clients import Target, run_rounds
from _load import Processes

from swarmyard.testing.cluster import clean_env, free_port


async def serve(directory: Path, port: int) -> None:
    """The server part: the platform, one claimed run, and its publisher."""
    import uvicorn

    from swarmyard.api.app import create_app
    from swarmyard.config import Settings
    from swarmyard.domain import DEFAULT_WORKSPACE as WS
    from swarmyard.domain import EventType
    from swarmyard.runtime.wiring import build
    from swarmyard.services.tasks import NewTask

    settings = Settings(
        data_dir=directory / "data",
        rate_limits_enabled=False,
        log_format="json",
        lease_seconds=3600.0,  # the run is ours for the whole benchmark
    )
    c = build(settings)
    app = create_app(c, manage_lifecycle=False)
    await c.start(workers=False)
    await c.registry.install(WS, "developer")
    task = await c.tasks.create(WS, NewTask(title="fan-out", type="bugfix"))
    await c.orchestrator.assign_ready(WS)
    [pending] = await c.runs.for_task(WS, task.id)
    claimed = await c.lifecycle.claim(WS, pending.id, "bench")
    assert claimed is not None
    run = claimed.run
    key = json.loads((settings.data_dir / "credentials.json").read_text())["api_key"]

    async def publisher() -> None:
        k = 0
        while True:
            go = directory / f"go-{k}.json"
            if not go.exists():
                await asyncio.sleep(0.02)
                continue
            spec = json.loads(go.read_text())
            for i in range(int(spec["events"])):
                payload = {"bench": i, "t_pub": time.time()}
                await c.lifecycle.record(
                    run, [c.lifecycle.event(run, EventType.PROGRESS, payload)], None
                )
                await asyncio.sleep(float(spec["interval_s"]))
            (directory / f"done-{k}").write_text(str(run.next_seq - 1))
            k += 1

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    job = asyncio.create_task(publisher())
    ready = {"port": port, "api_key": key, "run_id": run.id, "seq": run.next_seq - 1}
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    (directory / "ready.json").write_text(json.dumps(ready))
    try:
        await serving
    finally:
        job.cancel()
        await c.stop(grace=1.0)


def s5(params: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="swarmyard-s5-") as d:
        directory = Path(d)
        (directory / "logs").mkdir()
        with Processes(directory / "logs") as procs:
            argv = [sys.executable, __file__, "--serve", d, str(free_port())]
            procs.start("server", argv, clean_env())
            target = Target(
                directory,
                ws_path="/ws",
                sse_path=lambda run, after: f"/api/v1/runs/{run}/stream?after={after}",
                ws_subscribe=lambda run, after: {"subscribe": "run", "run_id": run, "after": after},
            )
            try:
                metrics, notes = run_rounds(target, params)
            except (TimeoutError, RuntimeError) as exc:
                raise SystemExit(f"{exc}\n{procs.tail()}") from None
    notes.insert(
        0,
        "one `swarmyard serve` app (SQLite, in-process bus, worker loop off); each event is "
        "a run step written through Lifecycle.record, the agent loop's path",
    )
    emit(metrics, versions=versions("swarmyard", "uvicorn", "starlette"), notes=notes)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(Path(sys.argv[2]), int(sys.argv[3])))
    else:
        contestant_main({"S5": s5})
