"""Failures below HTTP, the same for every vendor adapter: a call slower
than the provider's timeout and an endpoint nobody listens on are our
retryable `ModelUnavailable`, raised at once (the SDKs' own retries are off)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from swarmyard.adapters.llm import (
    AnthropicModel,
    GeminiModel,
    ModelUnavailable,
    OllamaModel,
    OpenAIModel,
)
from swarmyard.ports import ModelClient
from swarmyard.testing.providers import Delay, FakeProviderServer, Reply

# A client of each adapter at a base URL: (URL of the fake server's
# protocol, the API root's path on another host, the constructor).
Build = Callable[..., ModelClient]
VENDORS: dict[str, tuple[str, str, Build]] = {
    "anthropic": (
        "anthropic_base_url",
        "",
        lambda url, **kw: AnthropicModel(
            model="claude-sonnet-4-6", api_key="sk-ant-api03-test", base_url=url, **kw
        ),
    ),
    "gemini": (
        "gemini_base_url",
        "",
        lambda url, **kw: GeminiModel(
            model="gemini-2.5-flash", api_key="AIzaSyTest", base_url=url, **kw
        ),
    ),
    "openai": (
        "openai_base_url",
        "/v1",
        lambda url, **kw: OpenAIModel(model="gpt-4o", api_key="sk-test", base_url=url, **kw),
    ),
    "ollama": (
        "openai_base_url",
        "/v1",
        lambda url, **kw: OllamaModel(model="llama3.1", base_url=url, **kw),
    ),
}


@pytest.mark.parametrize("vendor", VENDORS)
async def test_client_timeout_is_retryable(
    vendor: str, fake_provider: FakeProviderServer, ask: Any
) -> None:
    url_of, _, build = VENDORS[vendor]
    client = build(getattr(fake_provider, url_of), timeout=0.2)
    fake_provider.enqueue(Delay(0.8, Reply("too late")))
    started = time.monotonic()
    try:
        with pytest.raises(ModelUnavailable, match="timed out") as caught:
            await client.request(ask(max_tokens=64))
    finally:
        await client.aclose()
    assert caught.value.retryable
    assert time.monotonic() - started < 0.7
    assert len(fake_provider.requests) == 1, "the SDK did not retry the timeout"


@pytest.mark.parametrize("vendor", VENDORS)
async def test_connection_refused_is_retryable(vendor: str, closed_port: int, ask: Any) -> None:
    _, root, build = VENDORS[vendor]
    client = build(f"http://127.0.0.1:{closed_port}{root}")
    try:
        with pytest.raises(ModelUnavailable) as caught:
            await client.request(ask(max_tokens=64))
    finally:
        await client.aclose()
    assert caught.value.retryable
    assert caught.value.status_code is None
    assert f"127.0.0.1:{closed_port}" in str(caught.value)
