"""The platform file, ``swarmyard.toml``: model providers, routing rules,
prices and the router's resilience settings.

Looked up in this order: ``$SWARMYARD_CONFIG_FILE``, ``./swarmyard.toml``,
``<data dir>/swarmyard.toml``; none is needed (the offline model then serves
every role). A broken file stops the process at start-up with every problem
named by its place in the file, instead of failing runs later.

    [router]
    breaker_threshold = 5

    [providers.openai]
    kind = "openai"
    api_key_env = "OPENAI_API_KEY"
    models = [
      { name = "gpt-4o-mini", tier = "fast" },
      { name = "gpt-4o", tier = "premium" },
    ]

    [[routing.rules]]
    name = "critical work"
    when = { complexity = ["critical"] }
    tier = "premium"

    [prices."ollama:llama3.1"]
    input_per_mtok = 0.0

API keys never go in this file: a provider names the environment variable
that holds its key (`api_key_env`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .catalog._problems import toml_syntax_problem, validation_problems
from .domain import PriceSpec, Problem, ProviderSpec, ValidationFailed
from .domain.routing import RouterOptions, RoutingRules

__all__ = ["PlatformFile", "find_platform_file", "load_platform_file", "parse_platform_file"]

FILE_NAME = "swarmyard.toml"


class PlatformFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    router: RouterOptions = Field(default_factory=RouterOptions)
    providers: dict[str, ProviderSpec] = Field(default_factory=dict)
    routing: RoutingRules | None = None
    prices: dict[str, PriceSpec] = Field(default_factory=dict)
    source: str = Field(default="", exclude=True)


def find_platform_file(data_dir: Path, environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    explicit = env.get("SWARMYARD_CONFIG_FILE", "").strip()
    if explicit:
        return Path(explicit)
    for candidate in (Path.cwd() / FILE_NAME, data_dir / FILE_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_platform_file(path: Path | None) -> PlatformFile:
    """Read and validate the file (an empty configuration when `path` is None).
    Raises `ValidationFailed` naming every problem."""
    if path is None:
        return PlatformFile()
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _failed(source, "", f"the file {source} does not exist") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise _failed(source, "", f"cannot read {source}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(source, [toml_syntax_problem(exc, text, source)]) from None
    return parse_platform_file(data, source=source)


def parse_platform_file(data: dict[str, Any], *, source: str = FILE_NAME) -> PlatformFile:
    providers = data.get("providers")
    if isinstance(providers, dict):
        # The table key is the provider's name; a `name` inside must agree.
        data = {
            **data,
            "providers": {
                key: {"name": key, **body} if isinstance(body, dict) else body
                for key, body in providers.items()
            },
        }
    try:
        parsed = PlatformFile.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(source, validation_problems(exc, PlatformFile)) from None
    problems = [
        Problem(f"providers.{key}.name", f"must be the table's key {key!r}")
        for key, spec in parsed.providers.items()
        if spec.name != key
    ]
    problems += [
        Problem(f"prices.{ref}", "name the model as 'provider:model'")
        for ref in parsed.prices
        if ":" not in ref
    ]
    if problems:
        raise ValidationFailed(source, problems)
    return parsed.model_copy(update={"source": source})


def _failed(source: str, path: str, reason: str) -> ValidationFailed:
    return ValidationFailed(source, [Problem(path, reason)])
