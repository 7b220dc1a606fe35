"""Model adapters: the built-in offline model, one client per vendor wire
protocol (OpenAI, OpenAI-compatible servers, Ollama, Anthropic, Gemini), the
free local tier (`local`: a GGUF model in a llama.cpp child server), the
factory that builds them from the providers' settings, the public price
table.

The clients are exported lazily: importing this package (as the CLI does to
wire a process) imports neither pydantic-ai nor any vendor SDK; touching
`OfflineModel` imports pydantic-ai, and a vendor's client its SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ModelConfigurationError,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
)
from .factory import ClientFactory
from .prices import GenaiPriceTable

if TYPE_CHECKING:
    from .anthropic_messages import AnthropicModel
    from .gemini import GeminiModel
    from .offline import OfflineModel
    from .ollama import OllamaModel
    from .openai_chat import OpenAIModel
    from .openai_compat import OpenAICompatibleModel

__all__ = [
    "AnthropicModel",
    "ClientFactory",
    "GeminiModel",
    "GenaiPriceTable",
    "ModelConfigurationError",
    "ModelError",
    "ModelRateLimited",
    "ModelRequestRejected",
    "ModelUnavailable",
    "OfflineModel",
    "OllamaModel",
    "OpenAICompatibleModel",
    "OpenAIModel",
]

_LAZY = {
    "AnthropicModel": ".anthropic_messages",
    "GeminiModel": ".gemini",
    "OfflineModel": ".offline",
    "OllamaModel": ".ollama",
    "OpenAICompatibleModel": ".openai_compat",
    "OpenAIModel": ".openai_chat",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
