"""Rate limits: budgets per address, a stricter one for sign-in, one per principal,
health never counted, and one 429 shape everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from swarmyard.api.hardening import RateLimitConfig, RateLimited, RateLimits

if TYPE_CHECKING:
    from conftest import Harness

Harden = Callable[..., "Harness"]


def assert_rate_limited(r: httpx.Response, limit: str) -> None:
    assert r.status_code == 429
    retry_after = int(r.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    body = r.json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["message"]
    assert body["error"]["details"] == {"retry_after": retry_after, "limit": limit}
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["X-RateLimit-Reset"]) >= 1


async def test_answers_429_once_the_address_budget_is_spent(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="3/minute"))
    async with h.client() as client:
        answers = [await client.get("/api/v1/things") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"3"}
        refused = await client.get("/api/v1/things")
    assert_rate_limited(refused, "3/minute")
    assert refused.headers["X-RateLimit-Limit"] == "3"
    # the refusal is still a hardened answer
    assert refused.headers["X-Content-Type-Options"] == "nosniff"


async def test_addresses_have_separate_budgets(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute"))
    async with h.client("10.0.0.1") as a, h.client("10.0.0.2") as b:
        assert (await a.get("/api/v1/things")).status_code == 200
        assert (await a.get("/api/v1/things")).status_code == 429
        assert (await b.get("/api/v1/things")).status_code == 200


async def test_an_ipv6_client_cannot_escape_by_rotating_within_its_64(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute"))
    async with (
        h.client("2001:db8:0:1::1") as first,
        h.client("2001:db8:0:1::ffff") as same_net,
        h.client("2001:db8:0:2::1") as other_net,
    ):
        assert (await first.get("/api/v1/things")).status_code == 200
        assert (await same_net.get("/api/v1/things")).status_code == 429
        assert (await other_net.get("/api/v1/things")).status_code == 200


async def test_sign_in_has_a_stricter_budget(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="100/minute", auth_per_ip="2/minute"))
    async with h.client() as client:
        assert (await client.post("/api/v1/auth/token")).status_code == 200
        second = await client.post("/api/v1/auth/token")
        assert second.headers["X-RateLimit-Limit"] == "2"  # the tightest budget is reported
        assert_rate_limited(await client.post("/api/v1/auth/token"), "2/minute")
        # the rest of the API is still open to the same address
        assert (await client.get("/api/v1/things")).status_code == 200


async def test_the_strict_budget_can_cover_only_some_auth_routes(harden: Harden) -> None:
    config = RateLimitConfig(auth_per_ip="1/minute", auth_prefixes=("/api/v1/auth/token",))
    h = harden(rate_limits=config)
    async with h.client(**{"X-Actor": "alice"}) as client:
        assert (await client.post("/api/v1/auth/token")).status_code == 200
        assert (await client.post("/api/v1/auth/token")).status_code == 429
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_refused_sign_ins_do_not_spend_the_general_budget(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="3/minute", auth_per_ip="1/minute"))
    async with h.client() as client:
        assert (await client.post("/api/v1/auth/token")).status_code == 200  # general: 1
        for _ in range(5):
            assert (await client.post("/api/v1/auth/token")).status_code == 429
        assert (await client.get("/api/v1/things")).status_code == 200  # general: 2
        assert (await client.get("/api/v1/things")).status_code == 200  # general: 3
        assert_rate_limited(await client.get("/api/v1/things"), "3/minute")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_health_is_never_limited_nor_counted(harden: Harden, path: str) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute"))
    async with h.client() as client:
        for _ in range(5):
            r = await client.get(path)
            assert r.status_code == 200
            assert "X-RateLimit-Limit" not in r.headers
        assert (await client.get("/api/v1/things")).status_code == 200


async def test_principal_budget_follows_the_actor_across_addresses(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="100/minute", per_principal="2/minute"))
    async with h.client("10.0.0.1") as home, h.client("10.0.0.2") as office:
        assert (await home.get("/api/v1/me", headers={"X-Actor": "alice"})).status_code == 200
        assert (await office.get("/api/v1/me", headers={"X-Actor": "alice"})).status_code == 200
        refused = await home.get("/api/v1/me", headers={"X-Actor": "alice"})
        assert_rate_limited(refused, "2/minute")
        # the principal's quota, not the address's, describes the refusal
        assert refused.headers["X-RateLimit-Limit"] == "2"
        assert (await home.get("/api/v1/me", headers={"X-Actor": "bob"})).status_code == 200


async def test_reset_forgets_every_count(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute"))
    async with h.client() as client:
        assert (await client.get("/api/v1/things")).status_code == 200
        assert (await client.get("/api/v1/things")).status_code == 429
        h.limits.reset()
        assert (await client.get("/api/v1/things")).status_code == 200


async def test_disabled_limits_neither_refuse_nor_label(harden: Harden) -> None:
    h = harden(
        rate_limits=RateLimitConfig(enabled=False, per_ip="1/minute", per_principal="1/minute")
    )
    async with h.client(**{"X-Actor": "alice"}) as client:
        for _ in range(3):
            r = await client.get("/api/v1/me")
            assert r.status_code == 200
            assert "X-RateLimit-Limit" not in r.headers


async def test_forwarded_for_is_ignored_unless_trusted(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute"))
    async with h.client() as client:
        assert (
            await client.get("/api/v1/things", headers={"X-Forwarded-For": "1.1.1.1"})
        ).status_code == 200
        spoofed = await client.get("/api/v1/things", headers={"X-Forwarded-For": "2.2.2.2"})
        assert spoofed.status_code == 429


async def test_trusted_forwarded_for_uses_the_first_hop(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute", trust_forwarded=True))
    async with h.client("10.9.9.9") as proxy:
        first = {"X-Forwarded-For": "203.0.113.7, 10.9.9.9"}
        other = {"X-Forwarded-For": "203.0.113.8, 10.9.9.9"}
        assert (await proxy.get("/api/v1/things", headers=first)).status_code == 200
        assert (await proxy.get("/api/v1/things", headers=first)).status_code == 429
        assert (await proxy.get("/api/v1/things", headers=other)).status_code == 200


def test_websocket_handshakes_count_against_the_address(harden: Harden) -> None:
    h = harden(rate_limits=RateLimitConfig(per_ip="1/minute"))
    with TestClient(h.app) as client:
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() == {"hello": "world"}
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws"):
            pass
    assert refused.value.code == 1008


def test_limits_read_limits_notation_and_report_it_back() -> None:
    limits = RateLimits(RateLimitConfig(per_principal="2/5 minutes;3/hour"))
    limits.check_principal("carol")
    limits.check_principal("carol")
    with pytest.raises(RateLimited) as exc:
        limits.check_principal("carol")
    assert exc.value.limit == "2/5 minutes"
    assert 1 <= exc.value.retry_after <= 300
    assert exc.value.quota is not None
    assert exc.value.quota.headers()["X-RateLimit-Limit"] == "2"


def test_retry_after_is_at_least_one_second() -> None:
    assert RateLimited(0, "1/second").retry_after == 1
    assert RateLimited(-3, "1/second").retry_after == 1


def test_bad_configuration_fails_at_startup() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimits(RateLimitConfig(per_ip="lots"))
    with pytest.raises(ValueError, match="asynchronous"):
        RateLimits(RateLimitConfig(storage_uri="async+memory://"))


def test_exempt_prefixes_are_never_counted() -> None:
    limits = RateLimits(RateLimitConfig(per_ip="1/minute", exempt_prefixes=("/static/",)))
    assert limits.is_exempt("/static/v-1/js/app.js")
    assert limits.is_exempt("/healthz")
    assert not limits.is_exempt("/staticky")
    assert not limits.is_exempt("/api/v1/static/x")
    assert not RateLimits(RateLimitConfig()).is_exempt("/static/app.js")
