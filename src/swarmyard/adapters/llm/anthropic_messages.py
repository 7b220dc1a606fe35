"""A `ModelClient` for Anthropic's Messages API (Claude).

pydantic-ai's Anthropic model over the official SDK client, which we build
ourselves so its retries are off and its timeout is the provider's. The key
travels as the SDK sends it (a bearer token in SDK 2.x; the API also takes
``x-api-key``). The base URL defaults to Anthropic's public endpoint and can
point at a proxy or gateway.
"""

from __future__ import annotations

from anthropic import AsyncAnthropic, Timeout
from pydantic_ai.models.anthropic import AnthropicModel as _PydanticAnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from ._pydantic_ai import PydanticAIClient, vendor_endpoint

__all__ = ["DEFAULT_BASE_URL", "AnthropicModel"]

# The public endpoint, given to the SDK explicitly (see `vendor_endpoint`).
DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicModel(PydanticAIClient):
    """`ModelClient` over one Claude model. Build it once and reuse it: it
    holds a connection pool, released by `aclose()`."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        provider: str = "anthropic",
        timeout: float = 300.0,
    ) -> None:
        name, url = vendor_endpoint(
            model=model,
            api_key=api_key,
            base_url=base_url,
            vendor="Anthropic",
            provider=provider,
            default_url=DEFAULT_BASE_URL,
        )
        client = AsyncAnthropic(
            base_url=url,
            api_key=api_key,
            max_retries=0,
            timeout=Timeout(timeout, connect=min(timeout, 10.0)),
        )
        messages_model = _PydanticAnthropicModel(
            name, provider=AnthropicProvider(anthropic_client=client)
        )
        super().__init__(
            messages_model,
            provider=provider,
            base_url=url,
            secret=api_key,
            close=client.close,
        )
