"""The model layer of a process: providers from the platform file (and the
older ``SWARMYARD_OPENAI_*`` settings), the free local tier, the client
factory, prices, the directory, the router and its admin service."""

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
from .local_tier import LocalTier, resolve_local_tier

__all__ = ["ModelLayer", "PlatformModels", "model_layer", "platform_models"]

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

    configured = platform_models(settings, platform)
    prices = GenaiPriceTable()
    options = platform.router
    directory = ModelDirectory(
        deps,
        file_providers=configured.providers,
        file_keys=configured.keys,
        file_prices=dict(platform.prices),
        file_rules=platform.routing,
        prices=prices,
        secrets=secrets,
        offline_fallback=configured.offline,
        builtin_providers=configured.local.builtin,
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
        file_providers=configured.providers,
        offline_fallback=configured.offline,
        builtin_providers=configured.local.builtin,
    )
    return ModelLayer(factory, directory, router, admin)


@dataclass(frozen=True, slots=True)
class PlatformModels:
    """The models every workspace of the installation can use, before any
    registered through the API."""

    providers: list[ProviderSpec]  # the platform file's, then the older settings' one
    keys: dict[str, str]  # keys given by setting, by provider name
    local: LocalTier
    offline: bool  # whether the offline model ends the chains


def platform_models(settings: Settings, platform: PlatformFile) -> PlatformModels:
    """Read from the platform file and the settings; a setting that cannot
    work raises `ModelConfigurationError` naming it."""
    local = resolve_local_tier(
        settings, list(platform.providers.values()), platform.source or "swarmyard.toml"
    )
    providers = list(local.file_providers)
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
    offline = platform.router.offline_fallback
    if offline is None:
        # The free local tier, when there is one, is the last step instead.
        offline = not local.present
    return PlatformModels(providers, keys, local, offline)


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
