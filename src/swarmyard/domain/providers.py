"""Model providers and the models they serve, as configured by people.

A provider is one endpoint with one credential (OpenAI, an Ollama server,
Anthropic, Gemini, a GGUF model run by llama.cpp on this machine, the
built-in offline model); each of its models has a tier (fast, mid,
premium), an output cap, whether it can call tools, and optionally a price. They come
from the providers file (`swarmyard.toml`) or from the API, and both go
through these models, so a mistake is named by its field path either way.

API keys are never part of these objects: the file names an environment
variable (`api_key_env`); a key given through the API is sealed (encrypted)
by the service and stored beside the spec.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import ip_address
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .manifest import ModelTier

__all__ = [
    "ModelSpec",
    "PriceSpec",
    "ProviderKind",
    "ProviderSpec",
    "is_loopback_url",
    "model_ref",
]

_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
_ENV = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class ProviderKind(StrEnum):
    OPENAI = "openai"
    OPENAI_COMPATIBLE = "openai-compatible"  # vLLM, llama.cpp server, OpenRouter, LM Studio…
    OLLAMA = "ollama"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    # A GGUF model file served by a llama.cpp server the platform starts itself on loopback.
    LOCAL = "local"
    OFFLINE = "offline"  # the built-in deterministic model

    @property
    def needs_base_url(self) -> bool:
        return self in (ProviderKind.OPENAI_COMPATIBLE, ProviderKind.OLLAMA)

    @property
    def has_public_prices(self) -> bool:
        """Whether the public price table knows this vendor's models."""
        return self in (ProviderKind.OPENAI, ProviderKind.ANTHROPIC, ProviderKind.GEMINI)


def model_ref(provider: str, model: str) -> str:
    """How the router names a model: ``provider:model``."""
    return f"{provider}:{model}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceSpec(_Strict):
    """USD per million tokens."""

    input_per_mtok: float = Field(default=0.0, ge=0, le=10_000)
    output_per_mtok: float = Field(default=0.0, ge=0, le=10_000)
    cached_input_per_mtok: float = Field(default=0.0, ge=0, le=10_000)


class ModelSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    tier: ModelTier = ModelTier.MID
    # The cap sent with every request, which bounds a call's worst-case cost.
    max_output_tokens: int = Field(default=4096, ge=1, le=1_000_000)
    price: PriceSpec | None = None
    # Small local models answer in text only: the router sends them no tool
    # definitions (they would only fill the context window), and the agent
    # loop says in the run's events that the role's tools were not offered.
    tool_calls: bool = True

    @field_validator("name")
    @classmethod
    def _no_space(cls, value: str) -> str:
        if value != value.strip() or not value.isprintable():
            raise ValueError("a model name has no surrounding spaces or control characters")
        return value


class ProviderSpec(_Strict):
    name: str = Field(pattern=_NAME)
    kind: ProviderKind
    base_url: str | None = Field(default=None, max_length=500)
    api_key_env: str | None = Field(default=None, pattern=_ENV)
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_retries: int = Field(default=2, ge=0, le=10)
    # Priced at zero by default (a model on the user's own machine). Unset: true
    # for Ollama, the offline model and endpoints on a loopback address.
    local: bool | None = None
    enabled: bool = True
    # The GGUF file a `local` provider serves (unset: the packaged small model).
    model_file: str | None = Field(default=None, min_length=1, max_length=1000)
    models: list[ModelSpec] = Field(default_factory=list, max_length=200)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; give the key with api_key_env")
        return value.strip()

    @model_validator(mode="after")
    def _coherent(self) -> ProviderSpec:
        if self.kind.needs_base_url and not self.base_url:
            raise ValueError(f"a provider of kind {self.kind.value!r} needs base_url")
        if self.kind is not ProviderKind.OFFLINE and not self.models:
            raise ValueError("list at least one model under 'models'")
        if self.kind is ProviderKind.LOCAL:
            self._check_local()
        elif self.model_file is not None:
            raise ValueError("model_file is for providers of kind 'local' only")
        names = [m.name for m in self.models]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ValueError(f"model {duplicate!r} is listed twice")
        return self

    def _check_local(self) -> None:
        # The platform starts the server itself, on a port of its choosing.
        if self.base_url is not None:
            raise ValueError(
                "a 'local' provider's server is started by Swarmyard and takes no base_url; "
                "for a server you run yourself use kind 'openai-compatible'"
            )
        if len(self.models) != 1:
            raise ValueError(
                "a 'local' provider serves one model file: list exactly one model "
                "(declare another provider for another file)"
            )

    @property
    def is_local(self) -> bool:
        if self.local is not None:
            return self.local
        if self.kind in (ProviderKind.OLLAMA, ProviderKind.LOCAL, ProviderKind.OFFLINE):
            return True
        return is_loopback_url(self.base_url)


def is_loopback_url(url: str | None) -> bool:
    """Whether the URL points at this machine (localhost or a loopback address)."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
