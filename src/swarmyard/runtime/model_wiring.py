"""The model layer of a process: providers from the platform file (and the
older ``SWARMYARD_OPENAI_*`` settings), the client factory, prices, the
directory, the router and its admin service."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog

from ..adapters.llm.errors import ModelConfigurationError
from ..config import Settings
from ..config_file import PlatformFile
from ..domain import ModelSpec, ModelTier, PriceSpec, ProviderKind, ProviderSpec
from ..domain.providers import is_loopback_url
from ..ports import ModelClientFactory, SecretBox
from ..services.deps import Deps
from ..services.model_admin import ModelAdmin
from ..services.model_directory import ModelDirectory
from ..services.router import ModelRouter

__all__ = ["ModelLayer", "model_layer"]

log = structlog.get_logger("swarmyard")

# The provider the SWARMYARD_OPENAI_BASE_URL setting stands for.
LEGACY_PROVIDER = "openai-compatible"


@dataclass(frozen=True, slots=True)
class ModelLayer:
    factory: ModelClientFactory
    directory: ModelDirectory
    router: ModelRouter
    admin: ModelAdmin


def model_layer(
    settings: Settings,
    platform: PlatformFile,
    deps: Deps,
    secrets: SecretBox,
    *,
    factory: ModelClientFactory | None = None,
) -> ModelLayer:
    """Build it; a model no price source knows stops the process here, named."""
    from ..adapters.llm.factory import ClientFactory  # noqa: PLC0415 (SDKs load lazily)
    from ..adapters.llm.prices import GenaiPriceTable  # noqa: PLC0415

    providers = list(platform.providers.values())
    keys: dict[str, str] = {}
    legacy = _legacy_provider(settings)
    if legacy is not None:
        if legacy.name in platform.providers:
            raise ModelConfigurationError(
                f"SWARMYARD_OPENAI_BASE_URL defines provider {legacy.name!r}, which "
                f"{platform.source or 'the platform file'} defines too: keep one of them"
            )
        providers.append(legacy)
        if settings.openai_api_key:
            keys[legacy.name] = settings.openai_api_key
    prices = GenaiPriceTable()
    options = platform.router
    directory = ModelDirectory(
        deps,
        file_providers=providers,
        file_keys=keys,
        file_prices=dict(platform.prices),
        file_rules=platform.routing,
        prices=prices,
        secrets=secrets,
        offline_fallback=options.offline_fallback,
    )
    unpriced = directory.check_file_prices()
    if unpriced:
        raise ModelConfigurationError(
            f"no price is known for {', '.join(unpriced)}: give each a `price` in "
            f"{platform.source or 'swarmyard.toml'} (USD per million tokens; 0 for a model "
            "you host yourself) or mark its provider `local = true`"
        )
    factory = factory or ClientFactory(offline_delay_ms=settings.offline_delay_ms)
    router = ModelRouter(deps, directory, factory, prices, options)
    admin = ModelAdmin(
        deps,
        directory,
        secrets,
        file_providers=providers,
        offline_fallback=options.offline_fallback,
    )
    return ModelLayer(factory, directory, router, admin)


def _legacy_provider(settings: Settings) -> ProviderSpec | None:
    """SWARMYARD_OPENAI_BASE_URL + SWARMYARD_MODEL: one endpoint serving every tier."""
    base_url = settings.openai_base_url.strip()
    if not base_url:
        return None
    if not settings.model.strip():
        raise ModelConfigurationError(
            "SWARMYARD_OPENAI_BASE_URL is set but SWARMYARD_MODEL is empty: set SWARMYARD_MODEL "
            "to a model the endpoint serves (e.g. llama3.1 for Ollama), or unset "
            "SWARMYARD_OPENAI_BASE_URL to use the built-in offline model"
        )
    host = urlsplit(base_url).hostname or ""
    official = host == "api.openai.com"
    price = None
    if not official and not is_loopback_url(base_url):
        # The price of a remote compatible endpoint is unknown here; it is
        # tracked at zero until swarmyard.toml gives one.
        log.warning(
            "model costs not tracked",
            provider=LEGACY_PROVIDER,
            hint="describe the endpoint in swarmyard.toml with a price",
        )
        price = PriceSpec()
    try:
        return ProviderSpec(
            name=LEGACY_PROVIDER,
            kind=ProviderKind.OPENAI if official else ProviderKind.OPENAI_COMPATIBLE,
            base_url=base_url,
            models=[ModelSpec(name=settings.model.strip(), tier=ModelTier.MID, price=price)],
        )
    except ValueError as exc:
        raise ModelConfigurationError(f"SWARMYARD_OPENAI_BASE_URL: {exc}") from None
