"""Helpers for testing code that embeds Swarmyard.

- `platform`: a throw-away embedded platform (`embedded_settings`) and
  waiting on the board without polling loops (`wait_for_task`);
- `providers`: `FakeProviderServer`, a loopback server speaking the OpenAI,
  Anthropic and Gemini wire protocols from a script of outcomes.

Names are exported lazily: using the fake providers does not import the
whole platform, and the other way round.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .platform import embedded_settings, wait_for_task
    from .providers import (
        Delay,
        Drop,
        ErrorReply,
        FakeProviderServer,
        RawResponse,
        RecordedRequest,
        Reply,
        ToolCall,
    )

__all__ = [
    "Delay",
    "Drop",
    "ErrorReply",
    "FakeProviderServer",
    "RawResponse",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "embedded_settings",
    "wait_for_task",
]

_LAZY = {
    "embedded_settings": ".platform",
    "wait_for_task": ".platform",
    **{
        name: ".providers"
        for name in (
            "Delay",
            "Drop",
            "ErrorReply",
            "FakeProviderServer",
            "RawResponse",
            "RecordedRequest",
            "Reply",
            "ToolCall",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
