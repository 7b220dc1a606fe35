"""An API client bound to an embedded platform (in-process ASGI, loops running)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from swarmyard.api.app import create_app
from swarmyard.runtime.wiring import Container


@pytest.fixture
async def api(platform: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
        yield client
