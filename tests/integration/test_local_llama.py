"""The free local tier for real: llama.cpp's own OpenAI-compatible server
(`llama_cpp.server`) with the packaged SmolLM2 135M model on loopback, driven
through our adapters, the router and a whole run.

This is our OpenAI-compatible adapter against a server someone else wrote:
plain and streamed answers, usage in the ledger, a timeout and a killed
server handled by retry and fallback. Needs the `local` extra (CI installs
it); skips with the reason elsewhere. Output caps are small: the model
makes about 100 tokens/s on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic_ai.messages import ModelRequest, SystemPromptPart, UserPromptPart
from typer.testing import CliRunner

from swarmyard.adapters.llm import ModelUnavailable, OpenAICompatibleModel
from swarmyard.adapters.llm.local import LlamaServer, LocalModel
from swarmyard.cli.main import app as cli_app
from swarmyard.config_file import parse_platform_file
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, TaskStatus
from swarmyard.ports import ModelCall, UsageFilter
from swarmyard.runtime.wiring import Container, build, ensure_default_workspace
from swarmyard.services.router import RouteNote
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task

pytestmark = pytest.mark.llama

MODEL = "smollm2-135m-instruct"
REF = f"local:{MODEL}"
OFFLINE = "offline:swarmyard-offline-1"


def ask(text: str, max_tokens: int = 16, **fields: Any) -> ModelCall:
    return ModelCall(
        messages=[
            ModelRequest(
                parts=[SystemPromptPart("You are a helpful assistant."), UserPromptPart(text)]
            )
        ],
        tools=[],
        max_tokens=max_tokens,
        **fields,
    )


@pytest.fixture
async def llama(local_model_file: Path) -> Any:
    server = LlamaServer(local_model_file, alias=MODEL)
    yield server
    await server.stop()


async def test_our_adapter_speaks_to_llama_cpps_server(llama: LlamaServer) -> None:
    url = await llama.ensure_running()
    assert url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(trust_env=False) as http:
        listed = (await http.get(f"{url}/models")).json()
    assert [m["id"] for m in listed["data"]] == [MODEL]  # llama.cpp's answer, not ours

    model = OpenAICompatibleModel(base_url=url, model=MODEL, provider="local")
    try:
        plain = await model.request(ask("Name a colour."))
        assert (plain.text or "").strip()
        assert plain.model_name == MODEL
        assert plain.usage.input_tokens > 5
        assert 0 < plain.usage.output_tokens <= 16

        deltas: list[str] = []
        final = None
        async for item in model.stream(ask("Count from one to five.")):
            if isinstance(item, str):
                deltas.append(item)
            else:
                final = item
        assert final is not None
        assert len(deltas) > 1  # it really streamed
        assert "".join(deltas) == final.text
    finally:
        await model.aclose()


async def test_the_local_client_counts_a_streams_tokens(llama: LlamaServer) -> None:
    client = LocalModel(model=MODEL, server=llama)
    try:
        chunks = [item async for item in client.stream(ask("Say hello.", max_tokens=12))]
    finally:
        await client.aclose()
    *deltas, final = chunks
    assert final.usage.output_tokens == len(deltas) > 0  # type: ignore[union-attr]


def platform(model_file: Path, *, timeout: float = 60.0, retries: int = 2, offline: bool) -> Any:
    return parse_platform_file(
        {
            "router": {"offline_fallback": offline, "backoff_base_seconds": 0.2},
            "providers": {
                "local": {
                    "kind": "local",
                    "model_file": str(model_file),
                    "timeout_seconds": timeout,
                    "max_retries": retries,
                    "models": [
                        {
                            "name": MODEL,
                            "tier": "fast",
                            "tool_calls": False,
                            "max_output_tokens": 48,
                        }
                    ],
                }
            },
        }
    )


async def started(tmp_path: Path, platform_file: Any) -> Container:
    c = build(embedded_settings(tmp_path), platform=platform_file)
    await c.store.migrate()
    await ensure_default_workspace(c.store, c.deps.clock)
    return c


async def local_client(c: Container) -> LocalModel:
    snap = await c.router.directory.snapshot(WS)
    src = snap.sources[REF]
    client = c.models.client(src.provider, src.model)
    assert isinstance(client, LocalModel)
    return client


async def test_a_routed_call_lands_in_the_ledger_at_no_cost(
    tmp_path: Path, local_model_file: Path
) -> None:
    c = await started(tmp_path, platform(local_model_file, offline=False))
    try:
        routed = await c.router.complete(
            ask("Name a fruit.", role="developer", workspace_id=WS, run_id="run_1")
        )
        assert routed.candidate.ref == REF
        assert (routed.response.text or "").strip()
        async with c.store.unit_of_work(WS) as uow:
            (entry,) = await uow.ledger.list(UsageFilter())
        assert (entry.provider, entry.model, entry.ok, entry.cost_microusd) == (
            "local",
            MODEL,
            True,
            0,
        )
        assert (entry.tokens_in, entry.tokens_out) == (routed.tokens_in, routed.tokens_out)
        assert entry.tokens_in > 5
        assert entry.tokens_out > 0
    finally:
        await c.models.aclose()
        await c.store.close()


async def test_a_timeout_is_retried_then_falls_back(tmp_path: Path, local_model_file: Path) -> None:
    # 50 ms is enough to connect on loopback, never enough for 48 tokens.
    c = await started(tmp_path, platform(local_model_file, timeout=0.05, retries=1, offline=True))
    try:
        client = await local_client(c)
        await client.server.ensure_running()  # the model load is not what times out
        notes: list[RouteNote] = []
        routed = await c.router.complete(
            ask("Tell a long story.", max_tokens=48, role="developer", workspace_id=WS), notes
        )
        assert routed.candidate.ref == OFFLINE
        actions = [(n.payload["action"], n.payload.get("model")) for n in notes]
        assert actions == [("route", REF), ("retry", REF), ("fallback", None)]
        assert "timed out" in notes[1].payload["reason"]
        async with c.store.unit_of_work(WS) as uow:
            entries = await uow.ledger.list(UsageFilter())
        assert sorted((e.provider, e.ok) for e in entries) == [
            ("local", False),
            ("local", False),
            ("offline", True),
        ]
    finally:
        await c.models.aclose()
        await c.store.close()


async def test_a_killed_server_is_restarted_and_the_call_goes_through(
    tmp_path: Path, local_model_file: Path
) -> None:
    c = await started(tmp_path, platform(local_model_file, offline=False))
    try:
        call = ask("Name an animal.", role="developer", workspace_id=WS)
        await c.router.complete(call)
        client = await local_client(c)
        old = client.server.pid
        assert old is not None

        os.kill(old, signal.SIGKILL)
        notes: list[RouteNote] = []
        routed = await c.router.complete(call, notes)

        assert routed.candidate.ref == REF
        assert (routed.response.text or "").strip()
        assert client.server.restarts == 1  # type: ignore[attr-defined]
        assert client.server.pid not in (None, old)
        # Whichever came first, the watcher's restart or the call's retry,
        # nothing fell back: the local model answered.
        assert all(n.payload["action"] in ("route", "retry") for n in notes)
    finally:
        await c.models.aclose()
        await c.store.close()
    assert client.server.pid is None  # stopped with the platform


async def test_after_the_platform_stops_no_server_is_left(
    tmp_path: Path, local_model_file: Path
) -> None:
    c = await started(tmp_path, platform(local_model_file, offline=False))
    client = await local_client(c)
    await client.server.ensure_running()
    pid = client.server.pid
    assert pid is not None
    await c.models.aclose()
    await c.store.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ModelUnavailable, match="stopped with the platform"):
        await client.server.ensure_running()


async def test_a_task_runs_end_to_end_on_the_local_model_alone(
    tmp_path: Path, local_model_file: Path
) -> None:
    c = build(
        embedded_settings(tmp_path, local_model=str(local_model_file)),
        platform=parse_platform_file({}),
    )
    await c.start()
    try:
        snap = await c.router.directory.snapshot(WS)
        assert [cand.ref for cand in snap.candidates] == ["local:smollm2-135m-instruct"]
        await c.registry.install(WS, "documenter")
        task = await c.tasks.create(
            WS,
            NewTask(
                title="Write a one-sentence welcome message for new users",
                type="docs",
                description="One friendly sentence, no more.",
            ),
        )
        done = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE, 120)
        assert done.result is not None
        assert len(done.result.split()) >= 3  # real words, generated
        assert "[offline model]" not in done.result

        run = (await c.runs.for_task(WS, task.id))[0]
        assert run.model == REF
        assert run.tokens_in > 100  # the documenter's whole brief was read
        assert run.tokens_out > 0
        events = await c.runs.events(WS, run.id)
        (call,) = [e.payload for e in events if e.type is EventType.LLM_CALL]
        assert (call["provider"], call["offline"], call["cost_usd"]) == ("local", False, 0)
        assert call["text"] == done.result
        kinds = [e.payload.get("kind") for e in events if e.type is EventType.PROGRESS]
        assert kinds == ["tools_unavailable"]
    finally:
        await asyncio.wait_for(c.stop(), 30)


def test_the_cli_smoke_tests_the_local_model(tmp_path: Path, local_model_file: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["--data-dir", str(tmp_path), "models", "test", "--max-tokens", "8"],
        env={"SWARMYARD_LOCAL_MODEL": str(local_model_file), "SWARMYARD_CONFIG_FILE": ""},
    )
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith("ok   local:")
    assert "first token" in line
    assert "tok/s" in line
