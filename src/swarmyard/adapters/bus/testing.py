"""Throwaway work-queue streams on a NATS server, for tests of the NATS bus and
of code built on it.

Tests must not touch the work queue somebody uses, and tests running side
by side must not see each other's messages or durables: each scratch bus
gets a work stream (and so a subject space) of its own, deleted when it is
done. Nothing here imports pytest; the test suites decide whether an
unreachable server means skip or fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats.errors
from nats.aio.client import Client
from nats.js.errors import APIError, NotFoundError

from .nats import NatsBus, shown_url

__all__ = [
    "NatsUnavailable",
    "delete_bucket",
    "delete_stream",
    "find_nats",
    "scratch_bus",
    "scratch_name",
]

# Where a test session looks for a server, unless SWARMYARD_TEST_NATS_URL says.
DEFAULT_TEST_URL = "nats://127.0.0.1:4222"


class NatsUnavailable(Exception):
    """No NATS server with JetStream answered; the message says where it was looked for."""


def scratch_name(kind: str) -> str:
    """A stream or bucket name no other test uses (recognisable if left behind)."""
    return f"SWARMYARD_TEST_{kind}_{secrets.token_hex(6)}"


async def _connect(url: str, within: float = 2.0) -> Client:
    """A plain connection, given up after `within` seconds (nats-py on its own
    retries an unreachable server for minutes)."""
    nc = Client()
    last_error: Exception | None = None

    async def remember(exc: Exception) -> None:
        nonlocal last_error
        last_error = exc

    try:
        async with asyncio.timeout(within):
            await nc.connect(url, connect_timeout=1, error_cb=remember)
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        await nc.close()
        cause = last_error or exc
        raise NatsUnavailable(
            f"NATS not reachable at {shown_url(url)}: {cause or type(cause).__name__}"
        ) from None
    return nc


async def find_nats() -> str:
    """The URL of a reachable NATS server with JetStream enabled."""
    url = os.environ.get("SWARMYARD_TEST_NATS_URL") or DEFAULT_TEST_URL
    nc = await _connect(url)
    try:
        await nc.jetstream().account_info()
    except APIError as exc:
        raise NatsUnavailable(
            f"NATS at {shown_url(url)} has no JetStream (start it with -js): {exc}"
        ) from None
    finally:
        await nc.close()
    return url


@asynccontextmanager
async def scratch_bus(url: str, *, work_stream: str | None = None) -> AsyncIterator[NatsBus]:
    """A NATS bus on a work stream of its own, removed (with its durables)
    afterwards. Pass the `work_stream` of another scratch bus to share its queue."""
    stream = work_stream or scratch_name("WORK")
    bus = NatsBus(url, work_stream=stream)
    try:
        yield bus
    finally:
        await bus.close()
        if work_stream is None:
            await delete_stream(url, stream)


async def delete_stream(url: str, stream: str) -> None:
    nc = await _connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    except NotFoundError:
        pass  # never created: the test did not use the work queue
    finally:
        await nc.close()


async def delete_bucket(url: str, bucket: str) -> None:
    """Remove a key-value bucket (JetStream keeps bucket B in stream KV_B)."""
    await delete_stream(url, f"KV_{bucket}")
