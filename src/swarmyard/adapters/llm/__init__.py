"""Model adapters: the built-in offline model, OpenAI-compatible endpoints,
and the selector that picks between them from the settings.

The clients are exported lazily: importing this package (as the CLI does to
wire a process) does not import pydantic-ai or the openai SDK; touching
`OfflineModel` or `OpenAICompatibleModel` does.
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
from .selector import DefaultModelSelector

if TYPE_CHECKING:
    from .offline import OfflineModel
    from .openai_compat import OpenAICompatibleModel

__all__ = [
    "DefaultModelSelector",
    "ModelConfigurationError",
    "ModelError",
    "ModelRateLimited",
    "ModelRequestRejected",
    "ModelUnavailable",
    "OfflineModel",
    "OpenAICompatibleModel",
]

_LAZY = {"OfflineModel": ".offline", "OpenAICompatibleModel": ".openai_compat"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
