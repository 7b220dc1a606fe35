"""`swarmyard serve`: API, orchestrator, workers and scheduler in one process."""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from ..adapters.store import create_store
from ..api.app import create_app
from ..config import Settings
from .preflight import check_database, configure_logging, database_location, fail
from .wiring import build

__all__ = ["configure_logging", "serve_forever"]


async def _prepare_database(settings: Settings) -> None:
    # A store of its own: the container's is bound to uvicorn's event loop.
    store = create_store(settings.resolved_database_url)
    try:
        await check_database(store, settings)
    finally:
        await store.close()


def serve_forever(settings: Settings) -> None:
    configure_logging(json_lines=settings.log_format == "json")
    try:
        container = build(settings)
    except ValueError as exc:  # a setting names something we cannot use
        fail(str(exc))
    asyncio.run(_prepare_database(settings))
    app = create_app(container)
    model = (
        f"{settings.model} at {settings.openai_base_url}"
        if settings.openai_base_url
        else "the built-in offline model (no LLM key configured)"
    )
    print(
        f"Swarmyard on http://{settings.host}:{settings.port} — data: "
        f"{database_location(settings)} — agents use {model}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,  # uvicorn's records go through our handler and format
        lifespan="on",
        timeout_graceful_shutdown=15,
    )
