"""Tool names as the vendors take them.

OpenAI, Anthropic and Gemini accept tool names matching
``^[a-zA-Z0-9_-]{1,64}$``; ours are namespaced with dots (``fs.read``,
``memory.search``, ``mcp.<server>.<tool>``). So on the way out every name —
in the tool list and in the history's earlier calls and results — becomes
its wire form (a dot is ``__``, anything else outside the set ``_``, and a
name too long for 64 characters keeps a hash of itself), and on the way
back each called name is mapped through the same call's table. Nothing is
guessed: a name the model invents is passed back as it came, and the agent
loop refuses it as it refuses any unknown tool.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any, cast

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    ToolCallPart,
    ToolReturnPart,
)

__all__ = ["WireNames"]

_OUTSIDE = re.compile(r"[^A-Za-z0-9_-]")
_MAX = 64


def wire_name(name: str) -> str:
    wire = _OUTSIDE.sub("_", name.replace(".", "__"))
    if len(wire) <= _MAX and wire:
        return wire
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{wire[: _MAX - 11]}_{digest}"


class WireNames:
    """The name table of one call: ours -> wire, and back."""

    def __init__(self, names: list[str]) -> None:
        self._out: dict[str, str] = {}
        self._back: dict[str, str] = {}
        for name in names:
            self.out(name)

    def out(self, name: str) -> str:
        wire = self._out.get(name)
        if wire is None:
            wire = wire_name(name)
            self._out[name], self._back[wire] = wire, name
        return wire

    def back(self, wire: str) -> str:
        return self._back.get(wire, wire)

    def messages(self, messages: list[ModelMessage]) -> list[ModelMessage]:
        """The history with every tool name in its wire form."""
        return [self._message(m) for m in messages]

    def response(self, response: ModelResponse) -> ModelResponse:
        """The model's answer with our names again."""
        parts: list[Any] = [
            replace(cast(Any, p), tool_name=self.back(p.tool_name))
            if isinstance(p, ToolCallPart)
            else p
            for p in response.parts
        ]
        return replace(response, parts=parts)

    def _message(self, message: ModelMessage) -> ModelMessage:
        if not any(_named(p) for p in message.parts):
            return message
        parts: list[Any] = [self._part(p) for p in message.parts]
        if isinstance(message, ModelRequest):
            return replace(message, parts=parts)
        return replace(message, parts=parts)

    def _part(self, part: Any) -> Any:
        if isinstance(part, ToolCallPart | ToolReturnPart):
            return replace(part, tool_name=self.out(part.tool_name))
        if isinstance(part, RetryPromptPart) and part.tool_name:
            return replace(part, tool_name=self.out(part.tool_name))
        return part


def _named(part: Any) -> bool:
    return isinstance(part, ToolCallPart | ToolReturnPart) or (
        isinstance(part, RetryPromptPart) and bool(part.tool_name)
    )
