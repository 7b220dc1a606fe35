"""`swarmyard serve`: API, orchestrator, workers and scheduler in one process."""

from __future__ import annotations

import asyncio
import logging
import sys

import structlog
import uvicorn

from ..adapters.store import create_store
from ..api.app import create_app
from ..config import Settings
from .wiring import build

__all__ = ["configure_logging", "serve_forever"]


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    # Migrations run on every start; their step-by-step chatter is not news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def _where(settings: Settings) -> str:
    """The database's location, without credentials."""
    return settings.database_url.split("@")[-1] if settings.database_url else str(settings.data_dir)


async def _prepare_database(settings: Settings) -> None:
    """Migrate before the server starts, so a database that cannot be reached
    is one clear line, not a failed application start-up."""
    store = create_store(settings.resolved_database_url)
    try:
        await store.migrate()
    finally:
        await store.close()


def serve_forever(settings: Settings) -> None:
    configure_logging()
    try:
        container = build(settings)
    except ValueError as exc:  # a setting names something we cannot use
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        asyncio.run(_prepare_database(settings))
    except Exception as exc:  # unreachable server, bad credentials, unwritable file…
        print(f"error: cannot open the database ({_where(settings)}): {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app = create_app(container)
    where = (
        settings.database_url.split("@")[-1] if settings.database_url else str(settings.data_dir)
    )
    model = (
        f"{settings.model} at {settings.openai_base_url}"
        if settings.openai_base_url
        else "the built-in offline model (no LLM key configured)"
    )
    print(
        f"Swarmyard on http://{settings.host}:{settings.port} — data: {where} — agents use {model}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=15,
    )
