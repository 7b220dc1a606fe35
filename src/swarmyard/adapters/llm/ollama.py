"""A `ModelClient` for an Ollama server, through its OpenAI-compatible API.

Ollama serves chat completions at ``<host>/v1``; pydantic-ai's Ollama
provider picks the model profile by family (llama, qwen, gemma, …), which
says e.g. how each family's tool schemas must be shaped. No key is needed
unless the server sits behind an authenticating proxy.
"""

from __future__ import annotations

from pydantic_ai.models.ollama import OllamaModel as _PydanticOllamaModel
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.providers.ollama import OllamaProvider

from ._pydantic_ai import PydanticAIClient, checked_model_name
from .errors import ModelConfigurationError
from .openai_compat import openai_sdk_client

__all__ = ["OllamaModel"]


class OllamaModel(PydanticAIClient):
    """`ModelClient` over one model of one Ollama server; `base_url` is its
    OpenAI-compatible root (``http://localhost:11434/v1``)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        provider: str = "ollama",
        timeout: float = 300.0,
    ) -> None:
        if not base_url.strip():
            raise ModelConfigurationError("an Ollama model needs the server's base URL")
        name = checked_model_name(model, base_url)
        client = openai_sdk_client(base_url=base_url.strip(), api_key=api_key, timeout=timeout)
        chat_model = _PydanticOllamaModel(
            name,
            provider=OllamaProvider(openai_client=client),
            # Ollama's chat completions know `max_tokens`, not OpenAI's newer
            # `max_completion_tokens`, which older servers ignore.
            profile=OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False),
        )
        super().__init__(
            chat_model, provider=provider, base_url=base_url, secret=api_key, close=client.close
        )
