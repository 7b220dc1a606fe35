"""HTTP to a Swarmyard server: one client, one error vocabulary.

Every command talks to the API through `ApiClient`. It adds the workspace
header and the credential (see `bearer`: a session is renewed and the
refused request sent once more), gives each mutating request a fresh
idempotency key (reused when a broken connection makes it send the same
request again, so the server acts once), and turns transport failures and
error bodies into `CliError`s that the root command prints. httpx is
imported here only; this module is loaded when a command first needs the
server, never at start-up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from .. import __version__
from .bearer import Bearer
from .errors import ApiError, CliError, NoServer, ServerGone, api_error

__all__ = [
    "API_PREFIX",
    "IDEMPOTENCY_HEADER",
    "WORKSPACE_HEADER",
    "ApiClient",
]

API_PREFIX = "/api/v1"
WORKSPACE_HEADER = "X-Swarmyard-Workspace"
IDEMPOTENCY_HEADER = "Idempotency-Key"

# A request whose connection broke after it was sent is sent again (same
# idempotency key) this many more times.
RETRIES = 2
RETRY_DELAY_SECONDS = 0.2
# Servers send keepalive comments on idle streams; silence longer than this
# means the connection is dead and the follower reconnects.
STREAM_READ_TIMEOUT = 75.0

Params = Mapping[str, str | int | float | bool | None]


class ApiClient:
    def __init__(
        self,
        url: str,
        workspace: str,
        *,
        bearer: Bearer | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.bearer = bearer
        self._http = httpx.Client(
            base_url=self.url,
            headers={
                WORKSPACE_HEADER: workspace,
                "Accept": "application/json",
                "User-Agent": f"swarmyard-cli/{__version__}",
            },
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            # Loading the CA bundle costs about 0.2 s per command. A plain
            # http:// address (the default, on loopback) never speaks TLS,
            # so it skips that; https:// keeps full certificate checks.
            verify=self.url.startswith("https://"),
        )

    def close(self) -> None:
        self._http.close()

    def health(self) -> Any:
        return self._decode(self._exchange("GET", "/healthz", signed=False))

    def get(self, path: str, params: Params | None = None) -> Any:
        return self._request("GET", API_PREFIX + path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._request("POST", API_PREFIX + path, body=body)

    def patch(self, path: str, body: Any) -> Any:
        return self._request("PATCH", API_PREFIX + path, body=body)

    def put(self, path: str, body: Any) -> Any:
        return self._request("PUT", API_PREFIX + path, body=body)

    def delete(self, path: str, params: Params | None = None) -> Any:
        return self._request("DELETE", API_PREFIX + path, params=params)

    def post_unsigned(self, path: str, body: Any) -> Any:
        """A POST without a credential, never resent: for ``/auth/*``, where a
        refresh token sent twice would be taken for a stolen one."""
        return self._decode(
            self._exchange("POST", API_PREFIX + path, body=body, signed=False, retries=0)
        )

    def list_all(self, path: str, params: Params | None = None) -> list[Any]:
        """Every item of a paged list, following ``next_cursor``."""
        query = dict(params or {})
        items: list[Any] = []
        while True:
            page = self.get(path, query)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise CliError(f"GET {path} did not answer with a list of items")
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            query["cursor"] = page["next_cursor"]

    @contextmanager
    def stream(self, path: str, *, last_event_id: str | None = None) -> Iterator[Iterator[str]]:
        """The lines of a Server-Sent Events response, while it stays open."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            response = self._open_stream(path, headers)
            if response.status_code == 401:
                response.read()  # the short error body; the connection is free again
                if self._renewed():
                    response = self._open_stream(path, headers)
            try:
                if response.status_code >= 400:
                    response.read()
                    raise self._error(response)
                yield response.iter_lines()
            finally:
                response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise NoServer(self.url) from None
        except httpx.TransportError as exc:
            raise ServerGone(f"the stream from {self.url} broke: {_describe(exc)}") from None

    def _open_stream(self, path: str, headers: dict[str, str]) -> httpx.Response:
        request = self._http.build_request(
            "GET",
            API_PREFIX + path,
            headers=headers | self._authorization(),
            timeout=httpx.Timeout(10.0, read=STREAM_READ_TIMEOUT),
        )
        return self._http.send(request, stream=True)

    def _request(
        self, method: str, url: str, *, params: Params | None = None, body: Any = None
    ) -> Any:
        headers = {}
        if method != "GET":
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        response = self._exchange(method, url, query=query, body=body, headers=headers)
        if response.status_code == 401 and self._renewed():
            # The same idempotency key: the refused request never ran.
            response = self._exchange(method, url, query=query, body=body, headers=headers)
        return self._decode(response)

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        query: Mapping[str, str | int | float] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        retries: int = RETRIES,
    ) -> httpx.Response:
        """One request, sent again (unchanged) when the connection breaks."""
        sent = {**(headers or {}), **(self._authorization() if signed else {})}
        for attempt in range(retries + 1):
            try:
                return self._http.request(method, url, params=query, json=body, headers=sent)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise NoServer(self.url) from None
            except httpx.TransportError as exc:
                if attempt == retries:
                    raise ServerGone(
                        f"the server at {self.url} broke the connection: {_describe(exc)}"
                    ) from None
                time.sleep(RETRY_DELAY_SECONDS * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _authorization(self) -> dict[str, str]:
        if self.bearer is None:
            return {}
        return {"Authorization": f"Bearer {self.bearer.token(self._refresh)}"}

    def _renewed(self) -> bool:
        """After a 401: whether the credential was renewed, so a retry may pass."""
        return self.bearer is not None and self.bearer.renew(self._refresh)

    def _refresh(self, refresh_token: str) -> Any:
        return self.post_unsigned("/auth/refresh", {"refresh_token": refresh_token})

    def _decode(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(
                f"the server at {self.url} answered {response.request.url.path} with a body "
                "that is not JSON — is it a Swarmyard server?"
            ) from None

    def _error(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = error.get("message") or f"HTTP {status} {response.reason_phrase}"
            return api_error(
                status, str(error.get("code") or "error"), str(message), error.get("details")
            )
        if isinstance(body, dict) and "detail" in body:
            return _framework_error(status, body["detail"])
        text = response.text.strip()[:200] or None
        return api_error(status, "http_error", f"HTTP {status} {response.reason_phrase}", text)


def _framework_error(status: int, detail: Any) -> ApiError:
    """A web framework's own error shape (``{"detail": ...}``), e.g. before a
    route's handler ran."""
    if isinstance(detail, str):
        return api_error(status, "http_error", detail)
    problems = detail
    if isinstance(detail, list):
        problems = [
            {"path": ".".join(str(p) for p in item.get("loc", [])), "reason": item.get("msg")}
            if isinstance(item, dict)
            else item
            for item in detail
        ]
    return api_error(status, "http_error", f"HTTP {status}", problems)


def _query_value(value: str | int | float | bool) -> str | int | float:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
