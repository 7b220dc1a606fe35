"""/prices: a workspace's own prices for models, in USD per million tokens.

An override wins over every other price source (see the model directory).
A model is named as the router names it, ``provider:model``, in the path:
``PUT /prices/ollama:llama3.1:8b``. The path parameter takes the rest of the
path, so model names holding ``:`` or ``/`` (``meta-llama/Llama-3-8B``) need
no escaping; the provider is what comes before the first colon, since a
provider name never holds one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...domain import Principal, Problem, ValidationFailed
from ...services.views import price_view
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["prices"])

# A provider name (63) and a model name (200) as the provider spec allows them.
_MAX_REF = 264


@router.get("/prices")
async def list_prices(c: ContainerDep, p: Annotated[Principal, acting("price.read")]) -> Response:
    prices = await c.model_admin.prices(p.workspace_id)
    return json_response({"items": [price_view(x) for x in prices]})


@router.put("/prices/{model:path}")
async def put_price(
    request: Request,
    model: str,
    body: Annotated[dict[str, Any], Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("price.write")],
) -> Response:
    ws = p.workspace_id
    if len(model) > _MAX_REF or not model.isprintable():
        raise ValidationFailed(
            "price",
            [Problem("model", f"at most {_MAX_REF} printable characters, as 'provider:model'")],
        )

    async def produce() -> tuple[int, Any]:
        price = await c.model_admin.put_price(ws, model, body, by=p.actor)
        return 200, price_view(price)

    return await idempotent(request, c, ws, produce, audit="price.write", ident=model)


@router.delete("/prices/{model:path}", status_code=204)
async def delete_price(
    request: Request,
    model: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("price.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.model_admin.delete_price(ws, model)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="price.write", ident=model)
