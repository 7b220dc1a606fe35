"""A `ModelClient` for any OpenAI-compatible chat-completions endpoint.

One adapter covers OpenAI, Ollama, vLLM, the llama.cpp server, OpenRouter
and the rest: they all speak the chat-completions wire protocol. It uses
pydantic-ai's model layer (`OpenAIChatModel.request`) rather than its agent
loop, because the loop is ours (ARCHITECTURE.md §5) and the model layer
already maps pydantic-ai messages and tool definitions onto the wire.

Two choices keep the platform in charge of failures:
- the SDK's own retries are off (``max_retries=0``): retrying with backoff
  and falling back to another model is the router's job, and it cannot
  budget or report retries it does not see;
- every provider failure becomes one of our `ModelError`s, raised without
  the SDK exception chained to it, with a message built here from safe
  parts, because providers echo request data (the API key included) in
  error bodies and SDK errors carry the request's headers.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from openai import AsyncOpenAI, Timeout
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from ...ports import ModelCall, ToolSpec
from .errors import (
    ModelConfigurationError,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
)

__all__ = ["OpenAICompatibleModel"]

# The SDK refuses to send a request without a key; keyless servers (Ollama,
# a local llama.cpp) ignore whatever is sent, so an empty key becomes this.
_NO_KEY = "no-key"
_BEARER = re.compile(r"(?i)bearer\s+\S+")
_OPENAI_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-*]{6,}")

# pydantic-ai's error categories -> ours, most specific first, with the words
# our message uses. `None` keeps the class's own `retryable`.
_CATEGORIES: tuple[tuple[type[ModelAPIError], type[ModelError], bool | None, str], ...] = (
    (ModelRateLimitError, ModelRateLimited, None, "rate limited"),
    (ModelQuotaExceededError, ModelRateLimited, False, "quota or credits exhausted"),
    (ModelUnavailableError, ModelUnavailable, None, "temporarily unavailable"),
    (ModelServerError, ModelUnavailable, None, "server error"),
    (ModelTimeoutError, ModelUnavailable, None, "timed out"),
    (ModelConnectionError, ModelUnavailable, None, "could not be reached"),
    (ModelRequestTimeout, ModelUnavailable, None, "timed out"),
    (ModelAuthenticationError, ModelRequestRejected, None, "credentials refused"),
    (ModelNotFoundError, ModelRequestRejected, None, "model or endpoint not found"),
    (ModelContextWindowExceededError, ModelRequestRejected, None, "context window exceeded"),
    (ModelRequestRejectedError, ModelRequestRejected, None, "request rejected"),
)


class OpenAICompatibleModel:
    """`ModelClient` over one model of one OpenAI-compatible endpoint.

    `base_url` is the API root (``http://localhost:11434/v1`` for Ollama);
    `api_key` may be empty for servers that need none. `provider` names the
    endpoint in usage records and message history. Build it once and reuse
    it: it holds a connection pool, released by `aclose()`.
    """

    offline = False

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
        if not model.strip():
            raise ModelConfigurationError(
                f"no model name given for the endpoint {_safe_url(base_url)}"
            )
        self.provider = provider
        self.model_name = model.strip()
        self.base_url = base_url.strip()
        self._secret = api_key
        self._where = _safe_url(self.base_url)
        self._client = AsyncOpenAI(
            base_url=self.base_url,
            api_key=api_key or _NO_KEY,
            max_retries=0,
            timeout=Timeout(timeout, connect=min(timeout, 10.0)),
        )
        self._model = OpenAIChatModel(
            self.model_name,
            provider=OpenAICompatibleProvider(provider, openai_client=self._client),
            profile=_profile_for(self.base_url),
        )

    async def request(self, call: ModelCall) -> ModelResponse:
        params = ModelRequestParameters(function_tools=[_tool_definition(t) for t in call.tools])
        settings = ModelSettings(max_tokens=call.max_tokens) if call.max_tokens else None
        try:
            return await self._model.request(call.messages, settings, params)
        except ModelAPIError as exc:
            raise self._translate(exc) from None
        except UnexpectedModelBehavior as exc:
            # A body that is not a chat completion: a proxy error page, a half-written reply.
            raise ModelUnavailable(
                self._message("sent a response that could not be read", exc.message),
                provider=self.provider,
                model=self.model_name,
            ) from None

    async def aclose(self) -> None:
        await self._client.close()

    def _translate(self, exc: ModelAPIError) -> ModelError:
        status = exc.status_code if isinstance(exc, ModelHTTPError) else None
        kind, retryable, words = _category(exc, status)
        what = f"HTTP {status}, {words}" if status is not None else words
        return kind(
            self._message(what, _detail(exc)),
            provider=self.provider,
            model=self.model_name,
            status_code=status,
            retry_after=exc.retry_after,
            retryable=retryable,
        )

    def _message(self, what: str, detail: str) -> str:
        text = f"model {self.model_name!r} at {self._where}: {what}"
        if detail:
            text += f": {detail}"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, "***")
        return _OPENAI_KEY.sub("sk-***", _BEARER.sub("Bearer ***", text))


def _category(exc: ModelAPIError, status: int | None) -> tuple[type[ModelError], bool | None, str]:
    for theirs, ours, retryable, words in _CATEGORIES:
        if isinstance(exc, theirs):
            return ours, retryable, words
    if status is not None and status < 500:
        return ModelRequestRejected, None, "request rejected"
    return ModelUnavailable, None, "request failed"


def _detail(exc: ModelAPIError) -> str:
    """The provider's own explanation, if it sent one (e.g. "model 'x' not found")."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str):
            return " ".join(message.split())[:300]
    if isinstance(exc, ModelConnectionError) and exc.phase is not None:
        return f"failed while {_PHASES[exc.phase]}"
    return ""


_PHASES = {
    "pool": "waiting for a free connection",
    "connect": "connecting",
    "write": "sending the request",
    "read": "reading the response",
}


def _tool_definition(spec: ToolSpec) -> ToolDefinition:
    schema = spec.parameters or {"type": "object", "properties": {}}
    return ToolDefinition(
        name=spec.name, description=spec.description, parameters_json_schema=schema
    )


def _profile_for(base_url: str) -> OpenAIModelProfile | None:
    # OpenAI's own API wants `max_completion_tokens` (its reasoning models refuse
    # `max_tokens`); most compatible servers (Ollama, llama.cpp, older vLLM) only
    # know `max_tokens`.
    if (urlsplit(base_url).hostname or "").endswith("api.openai.com"):
        return None
    return OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)


def _safe_url(url: str) -> str:
    """The URL without credentials or query string, fit for an error message."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparsable URL: say nothing rather than echo it
        return "the configured endpoint"
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) or "the configured endpoint"
