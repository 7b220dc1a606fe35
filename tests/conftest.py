"""Shared fixtures: an embedded platform (container with its loops running)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Container]:
    container = build(embedded_settings(tmp_path))
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)
