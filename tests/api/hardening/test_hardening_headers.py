"""Security headers: on every answer, never overriding what a route set itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from swarmyard.api.hardening import DEFAULT_CSP, SWAGGER_UI_CSP

if TYPE_CHECKING:
    from conftest import Harness

Harden = Callable[..., "Harness"]

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/api/v1/things", "/healthz", "/page", "/api/v1/nowhere"])
async def test_every_answer_carries_the_headers(harden: Harden, path: str) -> None:
    async with harden().client() as client:
        r = await client.get(path)
    for name, value in FIXED.items():
        assert r.headers[name] == value
    assert r.headers["Content-Security-Policy"] == DEFAULT_CSP


async def test_api_answers_are_not_stored_but_others_may_be(harden: Harden) -> None:
    async with harden().client() as client:
        assert (await client.get("/api/v1/things")).headers["Cache-Control"] == "no-store"
        assert (await client.get("/api/v1/nowhere")).headers["Cache-Control"] == "no-store"
        assert "Cache-Control" not in (await client.get("/healthz")).headers


async def test_headers_a_route_set_are_kept_and_not_doubled(harden: Harden) -> None:
    async with harden().client() as client:
        r = await client.get("/api/v1/own-headers")
    assert r.headers.get_list("X-Frame-Options") == ["SAMEORIGIN"]
    assert r.headers.get_list("Cache-Control") == ["max-age=60"]
    assert r.headers.get_list("Content-Security-Policy") == ["default-src 'none'"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_interactive_docs_get_the_policy_they_need(harden: Harden) -> None:
    async with harden().client() as client:
        docs = await client.get("/api/v1/docs")
        spec = await client.get("/api/v1/openapi.json")
    assert docs.status_code == 200
    assert docs.headers["Content-Security-Policy"] == SWAGGER_UI_CSP
    # what the page loads must be allowed by the policy it gets
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist" in docs.text
    assert spec.headers["Content-Security-Policy"] == DEFAULT_CSP


async def test_policies_are_configurable_by_path_prefix(harden: Harden) -> None:
    h = harden(csp="default-src 'none'", csp_overrides={"/page": "default-src 'self'; img-src *"})
    async with h.client() as client:
        assert (await client.get("/page")).headers["Content-Security-Policy"] == (
            "default-src 'self'; img-src *"
        )
        assert (await client.get("/api/v1/things")).headers[
            "Content-Security-Policy"
        ] == "default-src 'none'"
