"""The rate limits at the edge of the app, and the one 429 answer they give.

Pure ASGI rather than `BaseHTTPMiddleware`: the latter pipes every response
through a memory stream, and the API's SSE streams must reach the client
event by event. Only the response start is touched, to add the quota headers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import error_body
from ._ratelimit import RateLimited, RateLimits
from ._scope import client_ip, limiter_key, route_path

__all__ = ["RateLimitMiddleware", "rate_limited_handler", "too_many_requests"]

# RFC 6455 "policy violation": the closest a refused WebSocket handshake gets to a 429.
_WS_POLICY_VIOLATION = 1008


def too_many_requests(exc: RateLimited) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)}
    if exc.quota is not None:
        headers.update(exc.quota.headers())
    body = error_body(
        "rate_limited",
        f"too many requests: the limit is {exc.limit}; retry in {exc.retry_after} s",
        {"retry_after": exc.retry_after, "limit": exc.limit},
    )
    return JSONResponse(body, status_code=429, headers=headers)


async def rate_limited_handler(_: Request, exc: Exception) -> Response:
    """FastAPI exception handler for `RateLimited` raised inside a route or dependency."""
    assert isinstance(exc, RateLimited)
    return too_many_requests(exc)


class RateLimitMiddleware:
    """Per-address budgets for HTTP requests and WebSocket handshakes."""

    def __init__(self, app: ASGIApp, *, limits: RateLimits) -> None:
        self._app = app
        self._limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        path = route_path(scope)
        if (
            kind not in ("http", "websocket")
            or not self._limits.enabled
            or self._limits.is_exempt(path)
        ):
            await self._app(scope, receive, send)
            return
        ip = client_ip(scope, trust_forwarded=self._limits.config.trust_forwarded)
        try:
            quota = self._limits.check_address(limiter_key(ip), path)
        except RateLimited as exc:
            if kind == "http":
                await too_many_requests(exc)(scope, receive, send)
            else:
                await send(
                    {
                        "type": "websocket.close",
                        "code": _WS_POLICY_VIOLATION,
                        "reason": "rate limited",
                    }
                )
            return
        if kind == "websocket":
            await self._app(scope, receive, send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in quota.headers().items()]

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                # A handler that answered with its own (e.g. principal) quota keeps it.
                added = [(k, v) for k, v in extra if k not in present]
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        await self._app(scope, receive, send_with_quota)
