"""Managing what the router chooses from, per workspace: providers registered
through the API, price overrides and routing rules.

Keys given through the API are sealed before they reach the store and are
never returned; a provider registered here cannot name an environment
variable (that would let a workspace spend on the operator's own keys).
Every change makes this process's router forget the workspace's snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from ..catalog._problems import validation_problems
from ..domain import (
    TASK_TYPES,
    Conflict,
    ModelPrice,
    PriceSpec,
    Problem,
    ProviderKind,
    ProviderSpec,
    ValidationFailed,
    model_ref,
)
from ..domain.routing import RoutingRules
from ..ports import SecretBox, StoredProvider
from .deps import Deps
from .model_directory import OFFLINE_PROVIDER, ModelDirectory

__all__ = ["ModelAdmin", "ProviderView"]


@dataclass(frozen=True, slots=True)
class ProviderView:
    spec: ProviderSpec
    origin: str  # "file", "api" or "builtin"
    key: str  # "stored", "env", "env-missing" or "none" — never the key itself

    def as_dict(self) -> dict[str, Any]:
        # Where a local model's file lies on the server's disk is the operator's business.
        body = self.spec.model_dump(mode="json", exclude_none=True, exclude={"model_file"})
        return {**body, "origin": self.origin, "key": self.key, "local": self.spec.is_local}


class ModelAdmin:
    def __init__(
        self,
        deps: Deps,
        directory: ModelDirectory,
        secrets: SecretBox,
        *,
        file_providers: list[ProviderSpec],
        offline_fallback: bool = True,
        builtin_providers: list[ProviderSpec] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._d = deps
        self._dir = directory
        self._secrets = secrets
        self._file = file_providers
        self._builtin = list(builtin_providers or [])
        self._offline = offline_fallback
        # Where the file's key variables are looked up, to say whether each is set.
        self._environ: Mapping[str, str] = os.environ if environ is None else environ

    # ------------------------------------------------------------------ providers

    async def providers(self, workspace_id: str) -> list[ProviderView]:
        out = [ProviderView(p, "file", self._key_state(p)) for p in self._file]
        async with self._d.store.unit_of_work(workspace_id) as uow:
            stored = await uow.providers.list()
        out += [ProviderView(s.spec, "api", "stored" if s.sealed_key else "none") for s in stored]
        out += [ProviderView(p, "builtin", "none") for p in self._builtin]
        if self._offline:
            out.append(ProviderView(OFFLINE_PROVIDER, "builtin", "none"))
        return out

    async def put_provider(
        self, workspace_id: str, body: dict[str, Any], *, api_key: str | None, by: str
    ) -> ProviderView:
        spec = _parse(ProviderSpec, body, "provider")
        problems: list[Problem] = []
        if spec.api_key_env is not None:
            problems.append(
                Problem(
                    "api_key_env",
                    "providers registered through the API take the key itself ('api_key'); "
                    "environment variables are for the platform file",
                )
            )
        if spec.kind is ProviderKind.LOCAL:
            # It would start a process on the host with a file the workspace names.
            problems.append(
                Problem(
                    "kind",
                    "a 'local' provider runs a model file on the server's own machine and is "
                    "set up by the operator in swarmyard.toml; for a model server of your own "
                    "use kind 'openai-compatible' or 'ollama'",
                )
            )
        problems += [
            Problem(f"models.{i}.price", f"no price is known for {m.name!r}; give one here")
            for i, m in enumerate(spec.models)
            if not self._dir.price_known(spec, m)
        ]
        if problems:
            raise ValidationFailed("provider", problems)
        if spec.name in self._dir.file_provider_names:
            raise Conflict(
                f"provider {spec.name!r} is defined by the platform file or built in; "
                "choose another name"
            )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            old = await uow.providers.get(spec.name)
            sealed = self._secrets.seal(api_key) if api_key else (old.sealed_key if old else None)
            if sealed is None and spec.kind.has_public_prices:
                raise ValidationFailed(
                    "provider",
                    [Problem("api_key", f"a provider of kind {spec.kind.value!r} needs a key")],
                )
            await uow.providers.put(
                StoredProvider(spec, self._d.clock.now(), sealed_key=sealed, updated_by=by)
            )
            await uow.commit()
        self._dir.invalidate(workspace_id)
        return ProviderView(spec, "api", "stored" if sealed else "none")

    async def delete_provider(self, workspace_id: str, name: str) -> None:
        if name in self._dir.file_provider_names:
            raise Conflict(
                f"provider {name!r} comes from the platform file or is built in; "
                "it cannot be removed through the API"
            )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.providers.delete(name)
            await uow.commit()
        self._dir.invalidate(workspace_id)

    def _key_state(self, spec: ProviderSpec) -> str:
        if spec.api_key_env is None:
            return "none"
        return "env" if self._environ.get(spec.api_key_env) else "env-missing"

    # ------------------------------------------------------------------ prices

    async def prices(self, workspace_id: str) -> list[ModelPrice]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.prices.list()

    async def put_price(
        self, workspace_id: str, ref: str, body: dict[str, Any], *, by: str
    ) -> ModelPrice:
        spec = _parse(PriceSpec, body, "price")
        provider, _, model = ref.partition(":")
        if not provider or not model:
            raise ValidationFailed("price", [Problem("model", "name it as 'provider:model'")])
        price = ModelPrice(
            model_ref=model_ref(provider, model),
            input_per_mtok=spec.input_per_mtok,
            output_per_mtok=spec.output_per_mtok,
            cached_input_per_mtok=spec.cached_input_per_mtok,
            updated_at=self._d.clock.now(),
            updated_by=by,
        )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.prices.put(price)
            await uow.commit()
        self._dir.invalidate(workspace_id)
        return price

    async def delete_price(self, workspace_id: str, ref: str) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.prices.delete(ref)
            await uow.commit()
        self._dir.invalidate(workspace_id)

    # ------------------------------------------------------------------ routing

    async def routing(self, workspace_id: str) -> tuple[RoutingRules, str]:
        snap = await self._dir.snapshot(workspace_id)
        return snap.rules, snap.rules_source

    async def put_routing(self, workspace_id: str, body: Any, *, by: str) -> RoutingRules:
        rules = _parse(RoutingRules, body, "routing rules")
        snap = await self._dir.snapshot(workspace_id)
        known = set(snap.sources)
        problems = []
        for i, rule in enumerate(rules.rules):
            problems += [
                Problem(f"rules.{i}.models.{j}", f"no configured model {ref!r}")
                for j, ref in enumerate(rule.models)
                if ref not in known
            ]
            problems += [
                Problem(f"rules.{i}.when.task_types.{j}", f"unknown task type {t!r}")
                for j, t in enumerate(rule.when.task_types)
                if t not in TASK_TYPES
            ]
        if problems:
            raise ValidationFailed("routing rules", problems)
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.settings.put(
                "routing", rules.model_dump(mode="json"), at=self._d.clock.now(), by=by
            )
            await uow.commit()
        self._dir.invalidate(workspace_id)
        return rules

    async def reset_routing(self, workspace_id: str) -> bool:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            existed = await uow.settings.delete("routing")
            await uow.commit()
        self._dir.invalidate(workspace_id)
        return existed


M = TypeVar("M", ProviderSpec, PriceSpec, RoutingRules)


def _parse(kind: type[M], body: Any, what: str) -> M:
    if not isinstance(body, dict):
        raise ValidationFailed(what, [Problem("", "must be a JSON object")])
    try:
        return kind.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(what, validation_problems(exc, kind)) from None
