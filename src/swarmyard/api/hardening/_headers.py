"""Browser-facing safety headers on every response, set once at the edge.

The API serves JSON and SSE, not pages, so the defaults forbid everything a
browser could be tricked into doing with a response: sniffing it into HTML,
framing it, leaking the URL in a referrer, or loading anything from
elsewhere. Pages that need more (the interactive API docs) get a relaxed
policy by path prefix. A header the app set itself always wins: the route
knows better than the default.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._scope import route_path

__all__ = ["DEFAULT_CSP", "SWAGGER_UI_CSP", "SecurityHeadersMiddleware"]

DEFAULT_CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'"

# FastAPI's Swagger UI page: an inline bootstrap script, the bundle and its
# stylesheet from jsDelivr, inline styles from React, data: icons, a remote favicon.
SWAGGER_UI_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
)

_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str = DEFAULT_CSP,
        csp_overrides: Mapping[str, str] | None = None,
        no_store_prefix: str = "/api/",
    ) -> None:
        self._app = app
        self._csp = csp
        # Longest prefix first, so "/api/v1/docs" beats a broader "/api/".
        self._overrides = sorted((csp_overrides or {}).items(), key=lambda kv: -len(kv[0]))
        self._no_store_prefix = no_store_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        defaults = self._defaults_for(route_path(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in defaults if k not in present)
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_headers)

    def _defaults_for(self, path: str) -> list[tuple[bytes, bytes]]:
        csp = next((c for prefix, c in self._overrides if path.startswith(prefix)), self._csp)
        defaults = [*_FIXED, (b"content-security-policy", csp.encode())]
        if path.startswith(self._no_store_prefix):
            # API answers carry workspace data and tokens: no shared or disk cache may keep them.
            defaults.append((b"cache-control", b"no-store"))
        return defaults
