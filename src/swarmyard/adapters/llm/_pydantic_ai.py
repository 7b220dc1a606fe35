"""The part every vendor adapter shares: a `ModelClient` over a pydantic-ai `Model`.

pydantic-ai's model layer (`Model.request`, `Model.request_stream`) already
maps messages and tool definitions onto each vendor's wire format and sorts
the SDKs' exceptions into one family (`ModelAPIError` and its categories).
We use that layer and not pydantic-ai's agent loop, because the loop is
ours (ARCHITECTURE.md). What is left for us, once for every vendor:

- turning a `ModelCall` into the model layer's arguments (tools, output cap);
- turning the model layer's errors into our `ModelError`s, so the router
  decides on retries and fallbacks without importing an SDK. They are raised
  without the SDK exception chained, and with a message built here and
  redacted, because providers echo request data (the API key included) in
  error bodies and SDK errors carry the request's headers;
- streaming: text deltas as they arrive, then the complete response.

The SDKs' own retries are off in every adapter: retrying with backoff and
falling back is the router's job, and it cannot budget or report retries it
does not see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from pydantic_ai.exceptions import (
    ContentFilterError,
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
from pydantic_ai.messages import (
    ModelResponse,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from ...ports import ModelCall, ToolSpec
from ._redact import Redactor, safe_url
from ._tool_names import WireNames
from .errors import (
    ModelConfigurationError,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
)

__all__ = ["PydanticAIClient", "checked_model_name", "vendor_endpoint"]

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

_PHASES = {
    "pool": "waiting for a free connection",
    "connect": "connecting",
    "write": "sending the request",
    "read": "reading the response",
}


class PydanticAIClient:
    """`ModelClient` over one pydantic-ai `Model` of one endpoint.

    The vendor adapters build the SDK client and the pydantic-ai model and
    hand them here; `close` releases the SDK client's connections. `secret`
    is the API key, removed from every error message. `base_url` is the
    endpoint the SDK client was given; messages name it without credentials
    or query string.
    """

    offline = False

    def __init__(
        self,
        model: Model,
        *,
        provider: str,
        base_url: str,
        secret: str,
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.provider = provider
        self.model_name = model.model_name
        self.base_url = base_url
        self._model = model
        self._where = safe_url(base_url)
        self._redactor = Redactor(secret)
        self._close = close

    async def request(self, call: ModelCall) -> ModelResponse:
        names = WireNames([t.name for t in call.tools])
        settings, params = _arguments(call, names)
        try:
            response = await self._model.request(names.messages(call.messages), settings, params)
        except (ModelAPIError, UnexpectedModelBehavior) as exc:
            raise self._translate(exc) from None
        return names.response(response)

    async def stream(self, call: ModelCall) -> AsyncIterator[str | ModelResponse]:
        names = WireNames([t.name for t in call.tools])
        settings, params = _arguments(call, names)
        history = names.messages(call.messages)
        try:
            async with self._model.request_stream(history, settings, params) as streamed:
                async for event in streamed:
                    if delta := _text_delta(event):
                        yield delta
                response = streamed.get()
        except (ModelAPIError, UnexpectedModelBehavior) as exc:
            # Also mid-stream: a dropped connection or an error event after some deltas.
            raise self._translate(exc) from None
        yield names.response(response)

    async def aclose(self) -> None:
        await self._close()

    def _translate(self, exc: ModelAPIError | UnexpectedModelBehavior) -> ModelError:
        if isinstance(exc, UnexpectedModelBehavior):
            if isinstance(exc, ContentFilterError):
                return ModelRequestRejected(
                    self._message("refused by the provider's content filter", exc.message),
                    provider=self.provider,
                    model=self.model_name,
                )
            # A body that is not a response of this API: a proxy's error page, a half-written reply.
            return ModelUnavailable(
                self._message("sent a response that could not be read", exc.message),
                provider=self.provider,
                model=self.model_name,
            )
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
        return self._redactor.redact(text)


def checked_model_name(model: str, base_url: str | None) -> str:
    """The model name, stripped; a blank one fails when the client is built
    (at start-up), not at the first call."""
    if not model.strip():
        where = safe_url(base_url) if base_url else "the vendor's default endpoint"
        raise ModelConfigurationError(f"no model name given for the endpoint {where}")
    return model.strip()


def vendor_endpoint(
    *, model: str, api_key: str, base_url: str | None, vendor: str, provider: str, default_url: str
) -> tuple[str, str]:
    """(model name, base URL) of a vendor's API that refuses keyless requests:
    the key is checked at start-up, and the vendor's public endpoint is named
    explicitly when none is given (left unset, each SDK would read its own
    environment variable, and a variable set for another tool would decide
    where our key is sent)."""
    name = checked_model_name(model, base_url)
    if not api_key:
        raise ModelConfigurationError(f"the {vendor} provider {provider!r} needs an API key")
    return name, (base_url or "").strip() or default_url


def _arguments(
    call: ModelCall, names: WireNames
) -> tuple[ModelSettings | None, ModelRequestParameters]:
    tools = [_tool_definition(t, names.out(t.name)) for t in call.tools]
    params = ModelRequestParameters(function_tools=tools)
    settings = ModelSettings(max_tokens=call.max_tokens) if call.max_tokens else None
    return settings, params


def _tool_definition(spec: ToolSpec, wire: str) -> ToolDefinition:
    schema = spec.parameters or {"type": "object", "properties": {}}
    return ToolDefinition(name=wire, description=spec.description, parameters_json_schema=schema)


def _text_delta(event: ModelResponseStreamEvent) -> str:
    """The text an event adds to the answer ("" for tool calls, thinking, ends)."""
    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
        return event.part.content  # a part may start with its first characters
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta
    return ""


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
        inner = body.get("error", body)  # OpenAI, Anthropic and Gemini all nest it under "error"
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str):
            return " ".join(message.split())[:300]
    if isinstance(exc, ModelConnectionError) and exc.phase is not None:
        return f"failed while {_PHASES[exc.phase]}"
    return ""
