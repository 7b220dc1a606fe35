"""A `ModelClient` for any OpenAI-compatible chat-completions endpoint.

One adapter covers vLLM, the llama.cpp server, OpenRouter, LM Studio and the
rest: they all speak the chat-completions wire protocol. OpenAI itself and
Ollama have adapters of their own (`openai_chat`, `ollama`) that differ only
in the pydantic-ai provider, hence the model profile, they use; the SDK
client they share is built here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from openai import AsyncOpenAI, Timeout
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

from ._pydantic_ai import PydanticAIClient, checked_model_name
from .errors import ModelConfigurationError

__all__ = ["OpenAICompatibleModel", "openai_sdk_client"]

# The SDK refuses to send a request without a key; keyless servers (Ollama,
# a local llama.cpp) ignore whatever is sent, so an empty key becomes this.
_NO_KEY = "no-key"


class OpenAICompatibleModel(PydanticAIClient):
    """`ModelClient` over one model of one OpenAI-compatible endpoint.

    `base_url` is the API root (``http://localhost:8000/v1`` for vLLM);
    `api_key` may be empty for servers that need none. `provider` names the
    endpoint in usage records and message history. Build it once and reuse
    it: it holds a connection pool, released by `aclose()`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        provider: str = "openai-compatible",
        timeout: float = 300.0,
    ) -> None:
        if not base_url.strip():
            raise ModelConfigurationError("an OpenAI-compatible model needs a base URL")
        name = checked_model_name(model, base_url)
        url = base_url.strip()
        client = openai_sdk_client(base_url=url, api_key=api_key, timeout=timeout)
        chat_model = OpenAIChatModel(
            name,
            provider=OpenAICompatibleProvider(provider, openai_client=client),
            profile=_profile_for(url),
        )
        super().__init__(
            chat_model,
            provider=provider,
            base_url=url,
            secret=api_key,
            close=client.close,
        )


def openai_sdk_client(*, base_url: str, api_key: str, timeout: float) -> AsyncOpenAI:
    """The SDK client every chat-completions adapter uses: no SDK retries (the
    router retries) and a short connect timeout, so an unreachable endpoint
    fails fast."""
    return AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or _NO_KEY,
        max_retries=0,
        timeout=Timeout(timeout, connect=min(timeout, 10.0)),
    )


def _profile_for(base_url: str) -> OpenAIModelProfile | None:
    # OpenAI's own API wants `max_completion_tokens` (its reasoning models refuse
    # `max_tokens`); most compatible servers (Ollama, llama.cpp, older vLLM) only
    # know `max_tokens`.
    if (urlsplit(base_url).hostname or "").endswith("api.openai.com"):
        return None
    return OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)
