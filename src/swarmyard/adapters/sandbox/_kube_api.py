"""The five Kubernetes API calls the Job runner makes, over httpx.

No client library: create, read and delete a Job, list its pods, read a
pod's log. A refusal of the API server (its `Status` object) or a server
out of reach becomes a `SandboxError` whose message names the call and the
server's own words, e.g. "the Kubernetes API refused to create Job sy-x in
namespace agents (403 Forbidden): jobs.batch is forbidden: ...".
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ...ports.sandbox import SandboxError

__all__ = ["KubeApi", "KubeApiError", "read_secret_file"]

_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_CHUNK = 64 << 10


class KubeApiError(SandboxError):
    """The API server answered a call with an error status."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def read_secret_file(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SandboxError(f"cannot read the {what} at {path}: {exc.strerror or exc}") from None


def client(api_url: str, *, token: str | None, ca_file: Path | None) -> httpx.AsyncClient:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    verify: ssl.SSLContext | bool = True
    if ca_file is not None and api_url.startswith("https:"):
        try:
            verify = ssl.create_default_context(cafile=str(ca_file))
        except OSError as exc:
            raise SandboxError(
                f"cannot read the cluster's CA certificate at {ca_file}: {exc.strerror or exc}"
            ) from None
    # trust_env off: no proxy variable of the platform's reroutes the API calls.
    return httpx.AsyncClient(
        base_url=api_url, headers=headers, verify=verify, timeout=_TIMEOUT, trust_env=False
    )


class KubeApi:
    def __init__(self, http: httpx.AsyncClient, namespace: str) -> None:
        self._http = http
        self.namespace = namespace
        self._jobs = f"/apis/batch/v1/namespaces/{namespace}/jobs"
        self._pods = f"/api/v1/namespaces/{namespace}/pods"

    async def create_job(self, job: dict[str, Any]) -> dict[str, Any]:
        name = job["metadata"]["name"]
        return await self._json("POST", self._jobs, f"create Job {name}", json=job)

    async def get_job(self, name: str) -> dict[str, Any]:
        return await self._json("GET", f"{self._jobs}/{name}", f"read Job {name}")

    async def delete_job(self, name: str) -> bool:
        """Delete the Job and, in the background, its pods; False if it was gone."""
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            await self._json("DELETE", f"{self._jobs}/{name}", f"delete Job {name}", json=options)
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def job_pods(self, name: str) -> list[dict[str, Any]]:
        found = await self._json(
            "GET",
            self._pods,
            f"list the pods of Job {name}",
            params={"labelSelector": f"job-name={name}"},
        )
        items: list[dict[str, Any]] = found.get("items") or []
        return items

    async def read_log(self, pod: str, container: str, cap: int) -> tuple[bytes, bool] | None:
        """The first `cap` bytes of the container's log and whether more was
        there; None when the pod or its log is gone."""
        params = {"container": container, "limitBytes": str(cap + 1)}
        what = f"read the log of pod {pod}"
        kept = bytearray()
        try:
            async with self._http.stream(
                "GET", f"{self._pods}/{quote(pod)}/log", params=params
            ) as r:
                if r.status_code in (400, 404):  # not started, or already removed
                    return None
                if r.is_error:
                    await r.aread()
                    raise _refusal(r, what, self.namespace)
                async for chunk in r.aiter_bytes(_CHUNK):
                    kept += chunk
                    if len(kept) > cap:
                        break  # the rest is never read
        except httpx.HTTPError as exc:
            raise _unreachable(exc, what, self._http) from None
        return bytes(kept[:cap]), len(kept) > cap

    async def _json(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _unreachable(exc, what, self._http) from None
        if response.is_error:
            raise _refusal(response, what, self.namespace)
        try:
            body = response.json()
        except ValueError:
            raise SandboxError(f"the Kubernetes API answered {what} with no JSON") from None
        if not isinstance(body, dict):
            raise SandboxError(f"the Kubernetes API answered {what} with no object")
        return body


def _refusal(response: httpx.Response, what: str, namespace: str) -> KubeApiError:
    """The API server's `Status` object, in one line."""
    message, reason = "", response.reason_phrase
    try:
        status = response.json()
    except ValueError:
        status = None
    if isinstance(status, dict):
        message = str(status.get("message") or "")
        reason = str(status.get("reason") or reason)
    detail = message or response.text.strip()[:300] or "no message"
    return KubeApiError(
        f"the Kubernetes API refused to {what} in namespace {namespace} "
        f"({response.status_code} {reason}): {detail}",
        status=response.status_code,
    )


def _unreachable(exc: httpx.HTTPError, what: str, http: httpx.AsyncClient) -> SandboxError:
    detail = str(exc) or type(exc).__name__
    return SandboxError(
        f"could not reach the Kubernetes API at {http.base_url} to {what}: {detail}"
    )
