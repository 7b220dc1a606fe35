"""Builds the model client of a configured provider and model.

The router asks for a client per call; building one means a connection pool
and an SDK, so each (provider, model, key) is built once and reused until
`aclose()`. Keys come from the caller (a key sealed in the database) or
from the environment variable the provider names.

Importing this module imports no SDK: each vendor's adapter is imported the
first time a client of that kind is built, so a deployment that only uses
Ollama never loads the Anthropic or Google SDKs.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ...domain import ModelSpec, ProviderKind, ProviderSpec
from .errors import ModelRequestRejected

if TYPE_CHECKING:
    from ...ports import ModelClient

__all__ = ["ClientFactory"]

# Kinds whose vendor refuses every request without a key: better to say so
# when the client is asked for than to send a request bound to fail.
_NEEDS_KEY = frozenset({ProviderKind.OPENAI, ProviderKind.ANTHROPIC, ProviderKind.GEMINI})

_CacheKey = tuple[str, ProviderKind, str | None, float, str, str]


class ClientFactory:
    """`ModelClientFactory` for every `ProviderKind`.

    `offline_delay_ms` is the built-in offline model's thinking time;
    `environ` is where `api_key_env` is looked up (default: the process
    environment, read when a client is first built).
    """

    def __init__(self, offline_delay_ms: int = 0, environ: Mapping[str, str] | None = None) -> None:
        self._offline_delay_ms = offline_delay_ms
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._clients: dict[_CacheKey, ModelClient] = {}

    def client(
        self, provider: ProviderSpec, model: ModelSpec, *, api_key: str | None = None
    ) -> ModelClient:
        key = self._key(provider, model, api_key)
        # The key is part of the identity (a rotated key gets a new client) but
        # is kept here only as a digest, so no cache dump shows it.
        cache_key: _CacheKey = (
            provider.name,
            provider.kind,
            provider.base_url,
            provider.timeout_seconds,
            model.name,
            hashlib.sha256(key.encode()).hexdigest(),
        )
        client = self._clients.get(cache_key)
        if client is None:
            client = self._clients[cache_key] = self._build(provider, model, key)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            close = getattr(client, "aclose", None)
            if close is not None:  # the offline model holds no connections
                await close()

    def _key(self, provider: ProviderSpec, model: ModelSpec, api_key: str | None) -> str:
        if api_key is not None:
            return api_key
        variable = provider.api_key_env
        key = self._environ.get(variable, "") if variable else ""
        if not key and provider.kind in _NEEDS_KEY:
            problem = (
                f"its key variable {variable} is not set"
                if variable
                else "no key was given and it names no api_key_env"
            )
            raise ModelRequestRejected(
                f"provider {provider.name!r} ({provider.kind.value}) needs an API key: {problem}",
                provider=provider.name,
                model=model.name,
            )
        return key

    def _build(self, provider: ProviderSpec, model: ModelSpec, key: str) -> ModelClient:
        # Each adapter is imported here, when first needed: it pulls in its vendor's SDK.
        name, timeout = provider.name, provider.timeout_seconds
        match provider.kind:
            case ProviderKind.OFFLINE:
                from .offline import OfflineModel  # noqa: PLC0415

                return OfflineModel(
                    delay_ms=self._offline_delay_ms, provider=name, model=model.name
                )
            case ProviderKind.OPENAI:
                from .openai_chat import OpenAIModel  # noqa: PLC0415

                return OpenAIModel(
                    model=model.name,
                    api_key=key,
                    base_url=provider.base_url,
                    provider=name,
                    timeout=timeout,
                )
            case ProviderKind.OPENAI_COMPATIBLE:
                from .openai_compat import OpenAICompatibleModel  # noqa: PLC0415

                return OpenAICompatibleModel(
                    model=model.name,
                    api_key=key,
                    base_url=provider.base_url or "",
                    provider=name,
                    timeout=timeout,
                )
            case ProviderKind.OLLAMA:
                from .ollama import OllamaModel  # noqa: PLC0415

                return OllamaModel(
                    model=model.name,
                    api_key=key,
                    base_url=provider.base_url or "",
                    provider=name,
                    timeout=timeout,
                )
            case ProviderKind.ANTHROPIC:
                from .anthropic_messages import AnthropicModel  # noqa: PLC0415

                return AnthropicModel(
                    model=model.name,
                    api_key=key,
                    base_url=provider.base_url,
                    provider=name,
                    timeout=timeout,
                )
            case ProviderKind.GEMINI:
                from .gemini import GeminiModel  # noqa: PLC0415

                return GeminiModel(
                    model=model.name,
                    api_key=key,
                    base_url=provider.base_url,
                    provider=name,
                    timeout=timeout,
                )
