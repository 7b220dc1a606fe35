"""A loopback server that speaks the Kubernetes API for Jobs, pods and logs.

The Kubernetes sandbox talks to a real API server over HTTP; without a
cluster, `FakeKubernetes` answers the same calls on the same paths with the
same JSON: batch/v1 Jobs (create, read, delete with a propagation policy),
v1 PodLists by label selector, a pod's log as text (`limitBytes` honoured),
and `Status` objects for refusals (401, 403, 404, 409, 422). It plays the
Job controller too: each Job gets one pod, run by a *kubelet* the test
chooses, and the Job's and the pod's `activeDeadlineSeconds` are enforced
as a cluster does (past the Job's the pod is removed; past the pod's the
container is killed and the pod kept).

Kubelets: `exits(...)` and the other scripted ones answer at once or hold;
`ProcessKubelet` really runs the container's command here, as a local
process with the container's environment and working directory (no
isolation: it exercises the runner's protocol, not the cluster's sandbox)::

    async with FakeKubernetes(kubelet=exits(3, b"boom\\n")) as fake:
        sandbox = fake.sandbox(tmp_path)
        result = await sandbox.run(command)
        assert fake.jobs == {}  # deleted
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..adapters.sandbox.kubernetes import KubernetesJobSandbox
from ._kube_pods import (
    DEADLINE_MESSAGE,
    ContainerEnd,
    FakePod,
    Kubelet,
    ProcessKubelet,
    evicted_for_scratch,
    exits,
    holds,
    never_scheduled,
    now,
    oom_killed,
    start_error,
    waits_for_image,
)
from .loopback_asgi import LoopbackAsgi

__all__ = [
    "ContainerEnd",
    "FakeKubernetes",
    "FakePod",
    "Kubelet",
    "ProcessKubelet",
    "RecordedCall",
    "evicted_for_scratch",
    "exits",
    "holds",
    "never_scheduled",
    "oom_killed",
    "start_error",
    "waits_for_image",
]


@dataclass(frozen=True, slots=True)
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class _Job:
    namespace: str
    manifest: dict[str, Any]
    pods: list[FakePod] = field(default_factory=list)
    driver: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        name: str = self.manifest["metadata"]["name"]
        return name


class FakeKubernetes:
    """The API server and Job controller of a one-node cluster, on loopback.

    `token` is the bearer token every call must carry (None: any).
    `refuse(verb, resource, code)` makes those calls fail with that status.
    `jobs` are the Jobs that exist, `created` every Job body received,
    `deletions` every DeleteOptions body, `calls` every request.
    """

    def __init__(self, kubelet: Kubelet | None = None, *, token: str | None = "fake-token") -> None:
        self.kubelet: Kubelet = kubelet or exits(0)
        self.token = token
        self.calls: list[RecordedCall] = []
        self.created: list[dict[str, Any]] = []
        self.deletions: list[dict[str, Any]] = []
        self.jobs: dict[tuple[str, str], _Job] = {}
        self.orphans: list[FakePod] = []  # pods of Jobs deleted without propagation
        self._refusals: dict[tuple[str, str], int] = {}
        self._serving: LoopbackAsgi | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def refuse(self, verb: str, resource: str, code: int) -> None:
        """Answer `verb` ("create", "get", "list", "delete") on `resource`
        ("jobs", "pods", "pods/log") with `code` from now on."""
        self._refusals[(verb, resource)] = code

    def pods(self) -> list[FakePod]:
        return [pod for job in self.jobs.values() for pod in job.pods] + self.orphans

    async def wait_for_pod(self) -> FakePod:
        """The first pod whose container runs. Bound it with `asyncio.timeout`."""
        while True:
            for pod in self.pods():
                if pod.running.is_set():
                    return pod
            await asyncio.sleep(0.01)

    def sandbox(self, directory: Path, **options: Any) -> KubernetesJobSandbox:
        """A Kubernetes sandbox pointed at this server, its token and namespace
        in files under `directory` as a pod's service account has them."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "token").write_text(f"{self.token or ''}\n")
        (directory / "namespace").write_text("agents\n")
        defaults: dict[str, Any] = {
            "image": "registry.example/tools:1",
            "api_url": self.url,
            "token_file": directory / "token",
            "ca_file": None,
            "namespace_file": directory / "namespace",
            "poll_seconds": 0.01,
            "max_poll_seconds": 0.05,
            "grace_seconds": 2.0,
            "start_seconds": 5,
        }
        return KubernetesJobSandbox(**(defaults | options))

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        self._serving = LoopbackAsgi(self._app(), name="the fake Kubernetes API server")
        self.port = await self._serving.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # The Jobs' drivers are this fake's own tasks, not uvicorn's: stopping
        # the server would leave them (and their kubelets) running.
        for job in list(self.jobs.values()):
            await self._stop(job)
        if self._serving is not None:
            await self._serving.stop()

    def _app(self) -> Starlette:
        jobs = "/apis/batch/v1/namespaces/{ns}/jobs"
        pods = "/api/v1/namespaces/{ns}/pods"
        return Starlette(
            routes=[
                Route(jobs, self._create_job, methods=["POST"]),
                Route(jobs + "/{name}", self._get_job, methods=["GET"]),
                Route(jobs + "/{name}", self._delete_job, methods=["DELETE"]),
                Route(pods, self._list_pods, methods=["GET"]),
                Route(pods + "/{name}/log", self._read_log, methods=["GET"]),
            ]
        )

    # ------------------------------------------------------------------ API

    async def _admit(
        self, request: Request, verb: str, resource: str
    ) -> tuple[Any, Response | None]:
        """The request's JSON body, and the refusal to answer instead, if any."""
        raw = await request.body()
        body = json.loads(raw) if raw else None
        self.calls.append(
            RecordedCall(
                request.method,
                request.url.path,
                dict(request.query_params),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        if self.token is not None and request.headers.get("authorization") != (
            f"Bearer {self.token}"
        ):
            return body, _status(401, "Unauthorized", "Unauthorized")
        code = self._refusals.get((verb, resource))
        if code == 403:
            group = ' in API group "batch"' if resource == "jobs" else ""
            kind = "jobs.batch" if resource == "jobs" else resource
            ns = request.path_params["ns"]
            return body, _status(
                403,
                "Forbidden",
                f'{kind} is forbidden: User "system:serviceaccount:{ns}:swarmyard" cannot '
                f'{verb} resource "{resource}"{group} in the namespace "{ns}"',
            )
        if code is not None:
            return body, _status(code, "InternalError", "etcdserver: request timed out")
        return body, None

    async def _create_job(self, request: Request) -> Response:
        body, refused = await self._admit(request, "create", "jobs")
        if refused:
            return refused
        ns = request.path_params["ns"]
        if request.headers.get("content-type") != "application/json" or not isinstance(body, dict):
            return _status(415, "UnsupportedMediaType", "the body must be a JSON object")
        name = (body.get("metadata") or {}).get("name")
        if not name or body.get("kind") != "Job":
            return _status(422, "Invalid", "Job.batch is invalid: metadata.name: Required value")
        if (ns, name) in self.jobs:
            return _status(409, "AlreadyExists", f'jobs.batch "{name}" already exists')
        self.created.append(body)
        manifest = json.loads(json.dumps(body))
        manifest["metadata"] |= {
            "namespace": ns,
            "uid": secrets.token_hex(16),
            "creationTimestamp": now(),
            "resourceVersion": "1",
        }
        manifest["status"] = {}
        job = _Job(ns, manifest)
        self.jobs[(ns, name)] = job
        job.driver = asyncio.create_task(self._drive(job))
        return JSONResponse(manifest, status_code=201)

    async def _get_job(self, request: Request) -> Response:
        _, refused = await self._admit(request, "get", "jobs")
        if refused:
            return refused
        job = self.jobs.get((request.path_params["ns"], request.path_params["name"]))
        if job is None:
            return _status(404, "NotFound", f'jobs.batch "{request.path_params["name"]}" not found')
        return JSONResponse(job.manifest)

    async def _delete_job(self, request: Request) -> Response:
        options, refused = await self._admit(request, "delete", "jobs")
        if refused:
            return refused
        name = request.path_params["name"]
        job = self.jobs.pop((request.path_params["ns"], name), None)
        if job is None:
            return _status(404, "NotFound", f'jobs.batch "{name}" not found')
        options = options or {}
        self.deletions.append(options)
        await self._stop(job)
        # The API's default for Jobs orphans their pods; only a propagation
        # policy takes them with the Job.
        if options.get("propagationPolicy") not in ("Background", "Foreground"):
            self.orphans += job.pods
        return JSONResponse(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": name, "group": "batch", "kind": "jobs", "uid": "x"},
            }
        )

    async def _list_pods(self, request: Request) -> Response:
        _, refused = await self._admit(request, "list", "pods")
        if refused:
            return refused
        wanted: dict[str, str] = {}
        for term in filter(None, request.query_params.get("labelSelector", "").split(",")):
            key, sep, value = term.replace("==", "=").partition("=")
            if not sep:
                return _status(400, "BadRequest", f"unable to parse requirement: {term}")
            wanted[key.strip()] = value.strip()
        ns = request.path_params["ns"]
        items = [
            pod.manifest()
            for pod in self.pods()
            if pod.namespace == ns and all(pod.labels.get(k) == v for k, v in wanted.items())
        ]
        return JSONResponse(
            {
                "kind": "PodList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "7"},
                "items": items,
            }
        )

    async def _read_log(self, request: Request) -> Response:
        _, refused = await self._admit(request, "get", "pods/log")
        if refused:
            return refused
        name = request.path_params["name"]
        found = [p for p in self.pods() if p.name == name]
        if not found:
            return _status(404, "NotFound", f'pods "{name}" not found')
        pod = found[0]
        container = request.query_params.get("container", pod.container["name"])
        if container != pod.container["name"]:
            return _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        if not pod.running.is_set():
            return _status(
                400,
                "BadRequest",
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating',
            )
        data = bytes(pod.log)
        if "limitBytes" in request.query_params:
            data = data[: int(request.query_params["limitBytes"])]
        return Response(data, media_type="text/plain")

    # ------------------------------------------------------------------ controller

    async def _drive(self, job: _Job) -> None:
        spec = job.manifest["spec"]
        template = spec["template"]
        labels = dict(template["metadata"].get("labels") or {})
        uid = job.manifest["metadata"]["uid"]
        labels |= {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": job.name,
            "controller-uid": uid,
            "job-name": job.name,
        }
        pod = FakePod(
            name=f"{job.name}-{secrets.token_hex(3)[:5]}",
            namespace=job.namespace,
            job=job.name,
            labels=labels,
            spec=template["spec"],
            created=now(),
        )
        job.pods.append(pod)
        job.manifest["status"] = {"startTime": now(), "active": 1, "ready": 0}
        try:
            async with asyncio.timeout(spec.get("activeDeadlineSeconds")):
                end = await self._run_pod(pod)
        except TimeoutError:
            job.pods.clear()  # the Job controller deletes the active pods
            self._finish(
                job, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline"
            )
            return
        pod.end(end)
        if end.exit_code == 0 and end.pod_reason is None:
            self._finish(job, "Complete", None, None)
        else:
            message = "Job has reached the specified backoff limit"
            self._finish(job, "Failed", "BackoffLimitExceeded", message)

    async def _run_pod(self, pod: FakePod) -> ContainerEnd:
        kubelet = asyncio.create_task(self.kubelet(pod))
        running = asyncio.create_task(pod.running.wait())
        try:
            await asyncio.wait({kubelet, running}, return_when=asyncio.FIRST_COMPLETED)
            if not kubelet.done():
                await asyncio.wait({kubelet}, timeout=pod.spec.get("activeDeadlineSeconds"))
            if not kubelet.done():
                return ContainerEnd(137, "Error", "", "DeadlineExceeded", DEADLINE_MESSAGE)
            return kubelet.result()
        finally:
            running.cancel()
            kubelet.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await kubelet

    @staticmethod
    def _finish(job: _Job, kind: str, reason: str | None, message: str | None) -> None:
        interim = "SuccessCriteriaMet" if kind == "Complete" else "FailureTarget"
        conditions = []
        for type_ in (interim, kind):
            condition: dict[str, str | None] = {
                "type": type_,
                "status": "True",
                "lastProbeTime": now(),
                "lastTransitionTime": now(),
            }
            if reason:
                condition |= {"reason": reason, "message": message}
            conditions.append(condition)
        counts = {"succeeded": 1, "completionTime": now()} if kind == "Complete" else {"failed": 1}
        job.manifest["status"] = {
            "startTime": job.manifest["status"].get("startTime", now()),
            "active": 0,
            "ready": 0,
            "conditions": conditions,
            **counts,
        }

    async def _stop(self, job: _Job) -> None:
        if job.driver is not None:
            job.driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.driver


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        },
        status_code=code,
    )
