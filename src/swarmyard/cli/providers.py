"""``swarmyard providers``: the LLM endpoints a workspace registers for itself
(admins only; the platform file's providers are listed too).

An API key is never an option's value, which would land in the shell
history: ``--api-key-stdin`` reads it from a pipe, or asks for it with the
echo off on a terminal. The server seals it and never shows it again.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

import typer

from .context import session
from .formatting import Column, Item, column, text
from .prompts import secret_from_stdin
from .refs import segment
from .vocab import ModelTierName, ProviderKindName

__all__ = ["app", "model_spec"]

app = typer.Typer(help="LLM providers of the workspace (admins).", no_args_is_help=True)


def _models(provider: Item) -> str:
    models = provider.get("models") or []
    return text([f"{m.get('name')} ({m.get('tier')})" for m in models if isinstance(m, dict)])


_COLUMNS = [
    column("NAME", "name"),
    column("KIND", "kind"),
    column("ORIGIN", "origin"),
    column("KEY", "key"),
    column("BASE URL", "base_url", max_width=40),
    column("LOCAL", "local"),
    column("ENABLED", "enabled"),
    Column("MODELS", _models, max_width=60),
]


def model_spec(value: str) -> dict[str, Any]:
    """``NAME[:tier]``. Model names may hold colons themselves (Ollama's
    ``llama3.1:8b``), so only a last part naming a tier is taken as one."""
    name, _, tier = value.rpartition(":")
    if name and tier in get_args(ModelTierName):
        return {"name": name, "tier": tier}
    if not value.strip():
        raise typer.BadParameter("a model needs a name")
    return {"name": value}


@app.command("list")
def list_providers(ctx: typer.Context) -> None:
    """Every provider the workspace's router may use, and whether it has a key."""
    client, out = session(ctx)
    found = client.get("/providers")
    if out.json_mode:
        out.json(found)
        return
    out.records(_COLUMNS, found.get("items") or [], empty="no providers")


@app.command("add")
def add(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Provider name, e.g. ollama-box.")],
    kind: Annotated[ProviderKindName, typer.Option(help="What the endpoint speaks.")],
    model: Annotated[
        list[str],
        typer.Option(
            "--model",
            help="NAME[:fast|mid|premium] it serves (repeatable; tier mid by default).",
        ),
    ],
    base_url: Annotated[
        str | None, typer.Option(help="Endpoint, e.g. http://gpu-box:11434 (Ollama, compatible).")
    ] = None,
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="Read the API key from stdin (or ask for it).")
    ] = False,
    input_price: Annotated[
        float | None,
        typer.Option(min=0, help="USD per million input tokens, for each model given."),
    ] = None,
    output_price: Annotated[
        float | None,
        typer.Option(min=0, help="USD per million output tokens, for each model given."),
    ] = None,
    local: Annotated[
        bool | None,
        typer.Option("--local/--remote", help="Runs on your own machines (priced at zero)."),
    ] = None,
) -> None:
    """Register a provider; models the public price table lacks need a price."""
    models = [model_spec(m) for m in model]
    if input_price is not None or output_price is not None:
        price = {"input_per_mtok": input_price or 0.0, "output_per_mtok": output_price or 0.0}
        models = [m | {"price": price} for m in models]
    key = secret_from_stdin("API key") if api_key_stdin else None
    client, out = session(ctx)
    body = {
        "name": name,
        "kind": kind,
        "base_url": base_url,
        "local": local,
        "models": models,
        "api_key": key,
    }
    found = client.post("/providers", {k: v for k, v in body.items() if v is not None})
    if out.json_mode:
        out.json(found)
        return
    out.line(
        f"added provider {found.get('name')} ({found.get('kind')}, key {found.get('key')}): "
        f"{_models(found)}",
        "green",
    )


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Provider name.")],
) -> None:
    """Remove a provider registered through the API (its key goes with it)."""
    client, out = session(ctx)
    client.delete(f"/providers/{segment(name)}")
    if out.json_mode:
        out.json({"name": name, "deleted": True})
        return
    out.line(f"removed provider {name}", "green")
