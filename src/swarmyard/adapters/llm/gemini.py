"""A `ModelClient` for Google's Gemini API (generateContent).

pydantic-ai's Google model over the google-genai SDK, with two settings
that keep failures in the router's hands:
- retries: one attempt (``HttpRetryOptions(attempts=1)``). The SDK's httpx
  path does not retry without retry options today, but its aiohttp path
  retries connection errors implicitly unless they are given, so we pin
  them rather than depend on which transport or default applies;
- timeout: pydantic-ai hands the SDK the read timeout of the HTTP client it
  is given (the SDK sends it per request, in ms), so we give it an
  ``httpx2.AsyncClient`` with the provider's timeout, and close it ourselves.

The key travels in the ``x-goog-api-key`` header. The base URL defaults to
Google's public endpoint and can point at a proxy.
"""

from __future__ import annotations

import httpx2
from google.genai.types import HttpRetryOptions
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.providers.google import GoogleProvider

from ._pydantic_ai import PydanticAIClient, vendor_endpoint

__all__ = ["DEFAULT_BASE_URL", "GeminiModel"]

# The public endpoint, given to the SDK explicitly (see `vendor_endpoint`).
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/"


class GeminiModel(PydanticAIClient):
    """`ModelClient` over one Gemini model. Build it once and reuse it: it
    holds a connection pool, released by `aclose()`."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        provider: str = "gemini",
        timeout: float = 300.0,
    ) -> None:
        name, url = vendor_endpoint(
            model=model,
            api_key=api_key,
            base_url=base_url,
            vendor="Gemini",
            provider=provider,
            default_url=DEFAULT_BASE_URL,
        )
        http = httpx2.AsyncClient(timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)))
        google = GoogleProvider(
            api_key=api_key,
            http_client=http,
            base_url=url,
            retry_options=HttpRetryOptions(attempts=1),
        )
        self._google = google
        self._http = http
        super().__init__(
            GoogleModel(name, provider=google),
            provider=provider,
            base_url=url,
            secret=api_key,
            close=self._close_clients,
        )

    async def _close_clients(self) -> None:
        # The SDK leaves a client it was given to its owner (us) and keeps a
        # sync client of its own beside the async one.
        await self._http.aclose()
        self._google.client.close()
