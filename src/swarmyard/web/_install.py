"""Put the UI on the API's app: static files, page routes, HTML "not found"."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ._assets import StaticAssets
from ._pages import Pages

__all__ = ["install_web"]


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_web(app: FastAPI) -> None:
    """Call after the API's error handlers are installed: a person who
    mistypes a page's address gets a page, every other client keeps the
    JSON error it expects."""
    assets = StaticAssets()
    pages = Pages(assets)
    app.mount("/static", assets, name="static")
    app.include_router(pages.router)
    json_handler = app.exception_handlers[StarletteHTTPException]

    async def not_found_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and _wants_html(request):
            return pages.not_found(request)
        answer = json_handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(StarletteHTTPException, not_found_page)
