"""The FastAPI application: routers under /api/v1, health and the web UI outside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..config import Settings
from ..runtime.wiring import Container
from ..web import install_web
from .errors import install_error_handlers
from .hardening import HardeningConfig, RateLimitConfig, install_hardening
from .limits import BodySizeLimit
from .routes import (
    agents,
    api_keys,
    approvals,
    audit,
    auth,
    budgets,
    catalog,
    estimates,
    health,
    live,
    mcp_servers,
    memory,
    policies,
    prices,
    projects,
    providers,
    routing,
    rules,
    runs,
    schedules,
    skills,
    streams,
    task_graph,
    tasks,
    usage,
    workspaces,
)

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def hardening_config(settings: Settings) -> HardeningConfig:
    return HardeningConfig(
        rate_limits=RateLimitConfig(
            enabled=settings.rate_limits_enabled,
            per_ip=settings.rate_limit_per_ip,
            per_principal=settings.rate_limit_per_principal,
            auth_per_ip=settings.rate_limit_auth_per_ip,
            # /auth/me is read often by the UI; only sign-in and refresh get the strict bucket.
            auth_prefixes=("/api/v1/auth/token", "/api/v1/auth/refresh"),
            # Static files are read from disk and cached by browsers for good
            # (see web/_assets.py); counting them would spend a page's budget on its icons.
            exempt_prefixes=("/static/",),
            trust_forwarded=settings.trust_forwarded,
        ),
        cors_origins=list(settings.cors_origins),
    )


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
    # After the body limit, so the limiter refuses before a body is read.
    install_hardening(app, hardening_config(container.settings))
    for module in (
        auth,
        workspaces,
        api_keys,
        audit,
        rules,
        policies,
        catalog,
        agents,
        projects,
        estimates,  # before tasks: /tasks/estimate is no task id
        tasks,
        runs,
        approvals,
        memory,
        task_graph,
        schedules,
        streams,
        budgets,
        usage,
        providers,
        prices,
        routing,
        mcp_servers,
        skills,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(live.router)
    install_web(app)
    return app
