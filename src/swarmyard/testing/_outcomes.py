"""What a fake provider answers, and what it saw: the scripting vocabulary of
`FakeProviderServer`, independent of any one vendor's wire format."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Delay",
    "Drop",
    "ErrorReply",
    "Outcome",
    "RawResponse",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "WireProtocol",
    "argument_pieces",
    "text_pieces",
]

WireProtocol = Literal["openai", "anthropic", "gemini"]
"""The wire protocols the fake server speaks: OpenAI chat completions (also
what Ollama, vLLM and other compatible servers speak), Anthropic Messages,
Gemini generateContent."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call in a `Reply`. Without `id`, one is made up in the vendor's
    style (``call_…``, ``toolu_…``); Gemini's calls carry none unless given."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful model answer: text and/or tool calls, with usage.

    `input_tokens` counts the whole prompt, `cached_tokens` included (each
    protocol renders that its vendor's way: Anthropic reports the uncached
    part as ``input_tokens``). `model` overrides the model name echoed back
    (default: the one requested). `truncated` ends the answer as cut off by
    the output cap. Streamed, the text arrives a word at a time.
    """

    text: str = ""
    tool_calls: Sequence[ToolCall] = ()
    input_tokens: int = 10
    output_tokens: int = 5
    cached_tokens: int = 0
    model: str | None = None
    truncated: bool = False

    def __post_init__(self) -> None:
        if min(self.input_tokens, self.output_tokens, self.cached_tokens) < 0:
            raise ValueError("token counts cannot be negative")
        if self.cached_tokens > self.input_tokens:
            raise ValueError("cached_tokens is part of input_tokens, so cannot exceed it")


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An HTTP error in the vendor's own error format.

    `code` overrides the vendor's error code for `status` (OpenAI's
    ``code``, Anthropic's ``error.type``, Gemini's ``status``), e.g.
    ``insufficient_quota``. `retry_after` (seconds) is sent the vendor's
    way: a ``Retry-After`` header, or for Gemini a ``google.rpc.RetryInfo``
    in the body. `echo_key` appends the caller's API key to the message, as
    careless providers and proxies do, to test that clients redact it.
    `headers` are added as given.
    """

    status: int
    message: str = "the fake provider refused the request"
    code: str | None = None
    retry_after: float | None = None
    echo_key: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A response sent verbatim: `body` as JSON (text if it is a `str`), e.g.
    a malformed answer or a proxy's error page."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait `seconds` (to provoke client timeouts), then answer with `then`.
    Leaving the server's context ends the wait at once."""

    seconds: float
    then: Reply | ErrorReply | RawResponse | Drop = field(default_factory=Reply)


@dataclass(frozen=True, slots=True)
class Drop:
    """Hang up without finishing the response. A streamed request first gets
    the first `after_events` events of `reply` (0: nothing at all); any other
    request is dropped before a byte of the response is sent."""

    after_events: int = 0
    reply: Reply = field(default_factory=lambda: Reply("This answer will be cut short."))


Outcome = Reply | ErrorReply | RawResponse | Delay | Drop
"""One scripted answer of the fake server."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request the fake server received: the decoded JSON `body` (None if
    it was not JSON), header names in lower case, the model named in the body
    or the path, and whether a streamed answer was asked for."""

    protocol: WireProtocol
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    model: str
    stream: bool

    @property
    def api_key(self) -> str | None:
        """The key, from wherever the protocol's clients put it: OpenAI's
        ``Authorization: Bearer``; Anthropic's ``x-api-key`` (or the bearer
        token its SDK 2.x sends); Gemini's ``x-goog-api-key`` header or
        ``key`` query parameter."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        bearer = token if scheme.lower() == "bearer" and token else None
        if self.protocol == "openai":
            return bearer
        if self.protocol == "anthropic":
            return self.headers.get("x-api-key") or bearer
        return self.headers.get("x-goog-api-key") or self.query.get("key")


def argument_pieces(args: Mapping[str, Any]) -> list[str]:
    """How streamed tool arguments are cut: their JSON in two deltas, as real
    streams split them mid-token."""
    text = json.dumps(dict(args))
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


_PIECE = re.compile(r"\S*\s*")


def text_pieces(text: str) -> list[str]:
    """How a streamed answer is cut: a word (with the spaces after it) at a time."""
    return [piece for piece in _PIECE.findall(text) if piece]
