"""A `ModelClient` for OpenAI's own API (chat completions).

The same wire protocol as `openai_compat`, but through pydantic-ai's OpenAI
provider, whose model profiles know OpenAI's models (which of them reason,
which take `max_completion_tokens` rather than `max_tokens`) and whose usage
mapping reads OpenAI's cached-token counts. The base URL defaults to
OpenAI's public endpoint and can point at a proxy or a regional endpoint.
"""

from __future__ import annotations

from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from ._pydantic_ai import PydanticAIClient, vendor_endpoint
from .openai_compat import openai_sdk_client

__all__ = ["DEFAULT_BASE_URL", "OpenAIModel"]

# The public endpoint, given to the SDK explicitly (see `vendor_endpoint`).
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIModel(PydanticAIClient):
    """`ModelClient` over one OpenAI model. Build it once and reuse it: it
    holds a connection pool, released by `aclose()`."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        provider: str = "openai",
        timeout: float = 300.0,
    ) -> None:
        name, url = vendor_endpoint(
            model=model,
            api_key=api_key,
            base_url=base_url,
            vendor="OpenAI",
            provider=provider,
            default_url=DEFAULT_BASE_URL,
        )
        client = openai_sdk_client(base_url=url, api_key=api_key, timeout=timeout)
        chat_model = OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))
        super().__init__(
            chat_model,
            provider=provider,
            base_url=url,
            secret=api_key,
            close=client.close,
        )
