"""An API client bound to an embedded platform (in-process ASGI, loops running),
signed in with the owner key the first start created."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from swarmyard.api.app import create_app
from swarmyard.runtime.wiring import Container


def owner_key(platform: Container) -> str:
    creds = json.loads((platform.settings.data_dir / "credentials.json").read_text())
    key: str = creds["api_key"]
    return key


@pytest.fixture
async def anonymous(platform: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
        yield client


@pytest.fixture
async def api(platform: Container, anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    anonymous.headers["Authorization"] = f"Bearer {owner_key(platform)}"
    return anonymous


@pytest.fixture(name="owner_key")
def owner_key_fixture(platform: Container) -> str:
    return owner_key(platform)
