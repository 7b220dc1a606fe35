"""What every server process does before it starts: logging, and checks that
turn a bad setting or an unreachable database or bus into one clear line
and exit code 2 instead of a traceback from deep inside a start-up."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import NoReturn

import structlog

from ..config import Settings
from ..ports import Bus, Store

__all__ = [
    "BUS_SECONDS",
    "EXIT_SETTINGS",
    "check_bus",
    "check_database",
    "configure_logging",
    "database_location",
    "fail",
]

EXIT_SETTINGS = 2  # the CLI's usage exit code: fix the settings and start again
BUS_SECONDS = 10.0  # how long the bus may take to answer at start-up


def configure_logging(level: int = logging.INFO, *, json_lines: bool = False) -> None:
    """Structured logs on stderr: readable lines for people, or one JSON
    object per line for a log collector (`SWARMYARD_LOG_FORMAT=json`).
    Records of other libraries (uvicorn, SQLAlchemy) get the same format."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    if json_lines:
        shared.append(structlog.processors.dict_tracebacks)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Migrations run on every start; their step-by-step chatter is not news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_SETTINGS)


def database_location(settings: Settings) -> str:
    """The database's location, without credentials."""
    return settings.database_url.split("@")[-1] if settings.database_url else str(settings.data_dir)


async def check_database(store: Store, settings: Settings) -> None:
    """Migrate now, so a database that cannot be reached is one clear line,
    not a failed application start-up."""
    try:
        await store.migrate()
    except Exception as exc:  # unreachable server, bad credentials, unwritable file…
        fail(f"cannot open the database ({database_location(settings)}): {_first_line(exc)}")


async def check_bus(bus: Bus, settings: Settings) -> None:
    """One subscribe and unsubscribe: the bus answers, or the process stops."""
    try:
        async with asyncio.timeout(BUS_SECONDS):
            sub = await bus.subscribe("swarmyard.preflight")
            await sub.unsubscribe()
    except Exception as exc:
        where = settings.bus_url.split("@")[-1]
        reason = _first_line(exc) if str(exc) else f"no answer within {BUS_SECONDS:.0f} s"
        fail(f"cannot reach the bus ({where}): {reason}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
