"""Put the hardening middleware on an app, in the one order that works.

Starlette runs the last added middleware first, so they are added inside
out. From the outside in:

1. security headers: every answer gets them, 429s and CORS preflights too;
2. CORS (only when origins are configured): outside the rate limiter, so a
   browser can read a 429 instead of seeing an opaque network error, and
   preflights never spend a client's budget;
3. rate limits: refuse before any work, compression included;
4. gzip: large JSON shrinks; ``text/event-stream`` is left alone by
   Starlette, so SSE events are neither compressed nor held back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from ._headers import DEFAULT_CSP, SWAGGER_UI_CSP, SecurityHeadersMiddleware
from ._ratelimit import RateLimitConfig, RateLimited, RateLimits
from ._ratelimit_asgi import RateLimitMiddleware, rate_limited_handler

__all__ = ["HardeningConfig", "install_hardening"]

# Headers the API reads that a browser will not send cross-origin unless allowed.
_CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Last-Event-ID",
    "X-Swarmyard-Workspace",
)
# Headers a browser script may read from a cross-origin answer.
_CORS_EXPOSED_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)


@dataclass(frozen=True)
class HardeningConfig:
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    # Empty: no CORS headers at all, so only same-origin pages can call the API.
    cors_origins: list[str] = field(default_factory=list)
    csp: str = DEFAULT_CSP
    csp_overrides: dict[str, str] = field(default_factory=lambda: {"/api/v1/docs": SWAGGER_UI_CSP})
    # Below ~1 KB the gzip header and CPU cost more than the bytes saved.
    gzip_minimum_size: int = 1024


def install_hardening(app: FastAPI, config: HardeningConfig) -> None:
    """Add the middleware and the 429 handler; the budgets go to `app.state.limits`."""
    limits = RateLimits(config.rate_limits)
    # Route dependencies call `app.state.limits.check_principal` once the caller is known.
    app.state.limits = limits
    app.add_exception_handler(RateLimited, rate_limited_handler)

    app.add_middleware(GZipMiddleware, minimum_size=config.gzip_minimum_size)
    if limits.enabled:
        app.add_middleware(RateLimitMiddleware, limits=limits)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=list(_CORS_REQUEST_HEADERS),
            expose_headers=list(_CORS_EXPOSED_HEADERS),
            # The API authenticates with bearer tokens, never cookies.
            allow_credentials=False,
        )
    app.add_middleware(
        SecurityHeadersMiddleware, csp=config.csp, csp_overrides=config.csp_overrides
    )
