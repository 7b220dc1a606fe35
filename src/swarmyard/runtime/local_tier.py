"""The free local tier of a process: which GGUF model llama.cpp runs for it.

With the `local` extra installed (llama.cpp's server and a packaged small
model), every fallback chain gets a real model that needs no key and no
network, priced at zero, as its last step. Where it comes from, first
match wins:

1. a provider of kind ``local`` in swarmyard.toml (its `model_file`, or
   the packaged model when it names none);
2. ``SWARMYARD_LOCAL_MODEL``: a path to a GGUF file, ``off`` for none, or
   ``auto`` (the default): the packaged model, when llama.cpp and one are
   installed.

What is asked for explicitly (a file provider, a path) must work, or the
process stops at start-up saying what is missing; ``auto`` quietly finds
nothing on a machine without the extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..adapters.llm.errors import ModelConfigurationError
from ..adapters.llm.local import (
    LocalModelFile,
    default_model,
    missing_server_modules,
    model_name_for,
)
from ..config import Settings
from ..domain import ModelSpec, ModelTier, ProviderKind, ProviderSpec

__all__ = ["LOCAL_PROVIDER", "LocalTier", "resolve_local_tier"]

LOCAL_PROVIDER = "local"
# Small models ramble; the cap also bounds how long one call holds the CPU.
LOCAL_MAX_OUTPUT_TOKENS = 1024
INSTALL_HINT = "pip install 'swarmyard[local]'"


@dataclass(frozen=True, slots=True)
class LocalTier:
    # The platform file's providers, `local` ones with their model file settled.
    file_providers: list[ProviderSpec]
    # The provider the setting adds (none, or one named "local").
    builtin: list[ProviderSpec] = field(default_factory=list)
    # Why there is no local tier, when there is none (for `swarmyard models`).
    absent_because: str = ""

    @property
    def present(self) -> bool:
        return bool(self.builtin) or any(
            p.kind is ProviderKind.LOCAL and p.enabled for p in self.file_providers
        )


def resolve_local_tier(
    settings: Settings, file_providers: list[ProviderSpec], source: str = "swarmyard.toml"
) -> LocalTier:
    settled = [_settled(p, source) for p in file_providers]
    if any(p.kind is ProviderKind.LOCAL and p.enabled for p in settled):
        return LocalTier(settled)
    choice = settings.local_model.strip()
    if choice.lower() == "off":
        return LocalTier(settled, absent_because="SWARMYARD_LOCAL_MODEL is off")
    if any(p.name == LOCAL_PROVIDER for p in settled):
        return LocalTier(
            settled,
            absent_because=f"{source} has a provider named {LOCAL_PROVIDER!r} of another kind",
        )
    if choice.lower() in ("", "auto"):
        return _automatic(settled)
    return LocalTier(settled, [_provider(_named_file(Path(choice).expanduser()))])


def _automatic(settled: list[ProviderSpec]) -> LocalTier:
    missing = missing_server_modules()
    if missing:
        return LocalTier(
            settled,
            absent_because=f"llama.cpp's server is not installed ({INSTALL_HINT})",
        )
    model = default_model()
    if model is None:
        return LocalTier(settled, absent_because=f"no packaged model is installed ({INSTALL_HINT})")
    return LocalTier(settled, [_provider(model)])


def _named_file(path: Path) -> LocalModelFile:
    where = "SWARMYARD_LOCAL_MODEL"
    _require_server(where)
    if not path.is_file():
        raise ModelConfigurationError(f"{where}: there is no model file at {path}")
    return LocalModelFile(model_name_for(path), path, "setting")


def _provider(model: LocalModelFile) -> ProviderSpec:
    return ProviderSpec(
        name=LOCAL_PROVIDER,
        kind=ProviderKind.LOCAL,
        model_file=str(model.path),
        models=[
            ModelSpec(
                name=model.name,
                tier=ModelTier.FAST,
                tool_calls=model.tool_calls,
                max_output_tokens=LOCAL_MAX_OUTPUT_TOKENS,
            )
        ],
    )


def _settled(provider: ProviderSpec, source: str) -> ProviderSpec:
    """A file's `local` provider with its model file checked (and the packaged
    one filled in when it names none)."""
    if provider.kind is not ProviderKind.LOCAL or not provider.enabled:
        return provider
    where = f"{source}: providers.{provider.name}"
    _require_server(where)
    if provider.model_file is None:
        model = default_model()
        if model is None:
            raise ModelConfigurationError(
                f"{where} names no model_file and no packaged model is installed "
                f"({INSTALL_HINT}, or give model_file)"
            )
        return provider.model_copy(update={"model_file": str(model.path)})
    path = Path(provider.model_file).expanduser()
    if not path.is_file():
        raise ModelConfigurationError(f"{where}.model_file: there is no file at {path}")
    return provider.model_copy(update={"model_file": str(path)})


def _require_server(where: str) -> None:
    missing = missing_server_modules()
    if missing:
        raise ModelConfigurationError(
            f"{where}: llama.cpp's server is not installed (missing {', '.join(missing)}): "
            f"{INSTALL_HINT}"
        )
