"""Rate limits and body limits on the real application (not only the middleware)."""

from __future__ import annotations

import httpx

from swarmyard.api.app import create_app
from swarmyard.runtime.wiring import Container


async def test_sign_in_is_rate_limited_per_address(platform: Container) -> None:
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test/api/v1"
    ) as client:
        statuses = []
        for _ in range(11):
            r = await client.post(
                "/auth/token", json={"email": "who@example.com", "password": "guess guess"}
            )
            statuses.append(r.status_code)
        assert statuses[:10] == [401] * 10
        assert statuses[10] == 429
        assert int(r.headers["Retry-After"]) >= 1
        body = r.json()["error"]
        assert body["code"] == "rate_limited"
        assert body["details"]["retry_after"] >= 1
        # other endpoints have their own, larger budget
        assert (await client.get("/tasks")).status_code == 401


async def test_security_headers_and_no_cors_by_default(api: httpx.AsyncClient) -> None:
    r = await api.get("/tasks", headers={"Origin": "https://evil.example"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in r.headers


async def test_unknown_routes_and_methods_answer_json(api: httpx.AsyncClient) -> None:
    r = await api.get("/nothing-here")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await api.put("/tasks")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
