"""The API's defences at the HTTP edge: rate limits, browser safety headers,
compression and CORS, installed together by `install_hardening`.

They sit outside the routes so that no route can forget them, and they are
pure ASGI so that streamed responses pass through untouched.
"""

from ._headers import DEFAULT_CSP, SWAGGER_UI_CSP, SecurityHeadersMiddleware
from ._install import HardeningConfig, install_hardening
from ._ratelimit import Quota, RateLimitConfig, RateLimited, RateLimits
from ._ratelimit_asgi import RateLimitMiddleware, rate_limited_handler, too_many_requests
from ._scope import client_ip, limiter_key, route_path

__all__ = [
    "DEFAULT_CSP",
    "SWAGGER_UI_CSP",
    "HardeningConfig",
    "Quota",
    "RateLimitConfig",
    "RateLimitMiddleware",
    "RateLimited",
    "RateLimits",
    "SecurityHeadersMiddleware",
    "client_ip",
    "install_hardening",
    "limiter_key",
    "rate_limited_handler",
    "route_path",
    "too_many_requests",
]
