"""What `swarmyard models` shows: every model the installation can use, and a
one-line smoke test of each.

Both read what `swarmyard serve` reads (the settings and swarmyard.toml),
with no database and no server: the inventory says where each model comes
from, what it costs and whether it can be called (a key variable unset, a
local file found but not in use); the smoke test sends each one short
prompt straight through its client (no router, no budget: it is a check of
the endpoint, not of a run) and times the first token and the whole answer.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelRequest, ModelResponse, UserPromptPart

from ..adapters.llm.factory import ClientFactory
from ..adapters.llm.local import directory_models, llama_cpp_version, packaged_models
from ..adapters.llm.local.model import LocalModel
from ..adapters.llm.prices import GenaiPriceTable
from ..config import Settings
from ..config_file import PlatformFile
from ..domain import ModelSpec, ProviderKind, ProviderSpec, model_ref
from ..ports import ModelCall, ModelError
from ..services.model_directory import OFFLINE_PROVIDER, platform_price
from .model_wiring import platform_models

__all__ = ["ModelEntry", "SmokeResult", "inventory", "models_directory", "smoke_test"]


@dataclass(frozen=True, slots=True)
class ModelEntry:
    ref: str
    kind: str
    tier: str
    origin: str  # "file", "setting", "builtin" or "found" (a local file not in use)
    where: str  # endpoint, model file, or "built in"
    tools: bool
    price: str
    status: str
    provider: ProviderSpec | None = None
    model: ModelSpec | None = None
    # A key given by setting (SWARMYARD_OPENAI_API_KEY); never shown.
    api_key: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        del body["provider"], body["model"], body["api_key"]
        return body

    @property
    def callable(self) -> bool:
        return self.provider is not None and self.model is not None


@dataclass(frozen=True, slots=True)
class SmokeResult:
    ref: str
    ok: bool
    detail: str  # the answer's first words, or what went wrong
    first_token_ms: float | None = None
    total_ms: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    # A local model's server start (model load), kept out of the timings above.
    startup_ms: float | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if not self.ok or not self.total_ms or self.first_token_ms is None or not self.tokens_out:
            return None
        generating = (self.total_ms - self.first_token_ms) / 1000
        return (self.tokens_out - 1) / generating if generating > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_per_second": self.tokens_per_second}


def models_directory(settings: Settings) -> Path:
    """Where GGUF files of one's own may be put: ``<data dir>/models``."""
    return settings.data_dir / "models"


def inventory(settings: Settings, platform: PlatformFile) -> list[ModelEntry]:
    """Every model of the installation, in the order a chain would end with
    them last: configured ones, the local tier, the offline model, then
    local files found but not in use."""
    configured = platform_models(settings, platform)
    table = GenaiPriceTable()
    legacy = {p.name for p in configured.providers} - set(platform.providers)
    entries: list[ModelEntry] = []
    for provider in configured.providers:
        origin = "setting" if provider.name in legacy else "file"
        key = configured.keys.get(provider.name)
        entries += _entries(provider, origin, platform, table, key=key)
    for provider in configured.local.builtin:
        entries += _entries(provider, "setting", platform, table)
    if configured.offline:
        entries += _entries(OFFLINE_PROVIDER, "builtin", platform, table)
    used = {
        Path(p.model_file).resolve()
        for p in [*configured.providers, *configured.local.builtin]
        if p.kind is ProviderKind.LOCAL and p.model_file
    }
    for found in [*packaged_models(), *directory_models(models_directory(settings))]:
        if found.path.resolve() not in used:
            entries.append(
                ModelEntry(
                    ref=model_ref("local", found.name),
                    kind=ProviderKind.LOCAL.value,
                    tier="-",
                    origin="found",
                    where=str(found.path),
                    tools=found.tool_calls,
                    price="free",
                    status="not in use: " + _how_to_use(settings),
                )
            )
    return entries


async def smoke_test(
    entries: list[ModelEntry], *, prompt: str, max_tokens: int, timeout: float
) -> list[SmokeResult]:
    """Each entry's model asked `prompt`, one after the other (a local model
    and a remote one would only slow each other down)."""
    factory = ClientFactory()
    try:
        return [await _one(factory, e, prompt, max_tokens, timeout) for e in entries]
    finally:
        await factory.aclose()


async def _one(
    factory: ClientFactory, entry: ModelEntry, prompt: str, max_tokens: int, timeout: float
) -> SmokeResult:
    assert entry.provider is not None
    assert entry.model is not None
    call = ModelCall(
        messages=[ModelRequest(parts=[UserPromptPart(prompt)])],
        tools=[],
        max_tokens=min(max_tokens, entry.model.max_output_tokens),
        task_title=prompt,
    )
    first: float | None = None
    response: ModelResponse | None = None
    startup_ms: float | None = None
    try:
        client = factory.client(entry.provider, entry.model, api_key=entry.api_key)
        async with asyncio.timeout(timeout):
            if isinstance(client, LocalModel):
                begun = time.perf_counter()
                await client.server.ensure_running()
                startup_ms = round((time.perf_counter() - begun) * 1000, 1)
            started = time.perf_counter()
            async for item in client.stream(call):
                if isinstance(item, str):
                    if first is None and item:
                        first = time.perf_counter()
                else:
                    response = item
    except ModelError as exc:
        return SmokeResult(entry.ref, False, exc.message, startup_ms=startup_ms)
    except TimeoutError:
        return SmokeResult(
            entry.ref, False, f"no complete answer within {timeout:g} s", startup_ms=startup_ms
        )
    done = time.perf_counter()
    if response is None:
        return SmokeResult(entry.ref, False, "the stream ended without an answer")
    text = " ".join((response.text or "").split())
    return SmokeResult(
        entry.ref,
        bool(text),
        text or "the answer was empty",
        first_token_ms=None if first is None else round((first - started) * 1000, 1),
        total_ms=round((done - started) * 1000, 1),
        tokens_in=response.usage.input_tokens,
        tokens_out=response.usage.output_tokens,
        startup_ms=startup_ms,
    )


def _entries(
    provider: ProviderSpec,
    origin: str,
    platform: PlatformFile,
    table: GenaiPriceTable,
    *,
    key: str | None = None,
) -> list[ModelEntry]:
    return [
        ModelEntry(
            ref=model_ref(provider.name, model.name),
            kind=provider.kind.value,
            tier=model.tier.value,
            origin=origin,
            where=_where(provider),
            tools=model.tool_calls,
            price=_price(provider, model, platform, table),
            status="key given by setting" if key else _status(provider),
            provider=provider,
            model=model,
            api_key=key,
        )
        for model in provider.models
    ]


def _where(provider: ProviderSpec) -> str:
    if provider.kind is ProviderKind.LOCAL:
        return provider.model_file or "the packaged model"
    if provider.kind is ProviderKind.OFFLINE:
        return "built in"
    return provider.base_url or f"{provider.kind.value}'s public endpoint"


def _price(
    provider: ProviderSpec, model: ModelSpec, platform: PlatformFile, table: GenaiPriceTable
) -> str:
    priced = platform_price(provider, model, dict(platform.prices), table)
    if priced is None:
        return "unknown"
    (inp, out, _), source = priced
    if inp == 0 and out == 0:
        return "free"
    return f"${inp:g}/${out:g} per Mtok ({source})"


def _status(provider: ProviderSpec) -> str:
    if not provider.enabled:
        return "disabled"
    if provider.kind is ProviderKind.LOCAL:
        return f"llama.cpp {llama_cpp_version() or '?'}, started on first use"
    if provider.api_key_env:
        state = "set" if os.environ.get(provider.api_key_env) else "NOT SET"
        return f"key ${provider.api_key_env} {state}"
    return "ready"


def _how_to_use(settings: Settings) -> str:
    if settings.local_model.strip().lower() == "off":
        return "SWARMYARD_LOCAL_MODEL is off"
    return "set SWARMYARD_LOCAL_MODEL to its path"
