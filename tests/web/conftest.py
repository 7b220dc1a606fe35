"""The web UI served by the API's app, in process (no browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from swarmyard.api.app import create_app
from swarmyard.runtime.wiring import Container


@pytest.fixture
async def site(platform: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
