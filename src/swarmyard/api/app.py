"""The FastAPI application: routers under /api/v1, health outside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..runtime.wiring import Container
from .errors import install_error_handlers
from .limits import BodySizeLimit
from .routes import agents, catalog, health, projects, runs, schedules, streams, tasks

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(container: Container, *, manage_lifecycle: bool = True) -> FastAPI:
    """`manage_lifecycle`: start the container's loops with the app and stop them after."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await container.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await container.stop(grace=container.settings.shutdown_grace_seconds)

    app = FastAPI(
        title="Swarmyard",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.container = container
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=1_000_000)
    for module in (catalog, agents, projects, tasks, runs, schedules, streams):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(health.router)
    return app
