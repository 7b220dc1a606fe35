"""Commands as Kubernetes Jobs: one pod per command, for cluster deployments.

Workers in a cluster run in containers that usually cannot create user
namespaces, so bubblewrap does not work there; the cluster itself can
isolate a command instead. Each command becomes a batch/v1 Job
(`_kube_job.py` holds the object): a non-root user, a read-only root file
system, no capabilities, no service account token, a deny-all
NetworkPolicy selecting its pods (deploy/kubernetes/sandbox.yaml), CPU and
memory limits, an emptyDir as its scratch directory and the project's
volume mounted read-only. The runner polls the Job until it ends, reads the
container's end and its log, and deletes the Job in every case: success,
failure, error, cancellation.

What differs from the sandboxes on the host, and why:
- **stdout only.** A container's log is its stdout and stderr merged, so
  both arrive in `stdout`; `stderr` stays empty (a missing program's
  "command not found" line is the exception, written by the runner).
- **Scratch is discarded.** The scratch directory is an emptyDir of the
  pod; files the command writes there do not come back to the platform's
  directory of the same name (a Job has no way to hand files back).
- **No stdin.** A Job has no input stream; a command with input is refused.
- **CPU is a rate**, `cpu_seconds / wall_seconds` cores, so a busy command
  runs slower instead of ending with reason "cpu". The memory limit is the
  container's cgroup: past it the kernel kills the command (`OOMKilled`,
  reason "memory"). The process count is the node's pod limit.
- **Wall time** is the pod's `activeDeadlineSeconds` (killed, reason
  "timeout", its log kept); the Job's own deadline adds time for scheduling
  and image pull, and past it the Job controller removes the pod (reason
  "timeout", no log).

The delivery promise is at most one pod per `run`: `backoffLimit` is 0 and
a Job the runner could not delete (the platform died) ends at its deadline
and is removed by its `ttlSecondsAfterFinished`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...ports.sandbox import EndReason, SandboxCommand, SandboxError, SandboxResult
from ._kube_api import KubeApi, KubeApiError, client, read_secret_file
from ._kube_job import CONTAINER, JobShape, deadline_seconds, job_manifest, job_name
from ._process import check_dirs, not_found

__all__ = [
    "IN_CLUSTER_API",
    "SERVICE_ACCOUNT_DIR",
    "KubernetesJobSandbox",
]

IN_CLUSTER_API = "https://kubernetes.default.svc"
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_DELETE_SECONDS = 10.0
# A container that waits for one of these never starts: the run fails now,
# not at its deadline. (ErrImagePull alone may be a registry's hiccup; the
# kubelet turns a lasting one into ImagePullBackOff.)
_NEVER_STARTS = frozenset(
    {"ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"}
)
# How container runtimes say the program is missing (containerd, CRI-O, Docker).
_NOT_FOUND = ("executable file not found", "no such file or directory")
_log = logging.getLogger(__name__)


class KubernetesJobSandbox:
    name = "kubernetes"
    isolated = True

    def __init__(
        self,
        *,
        image: str,
        namespace: str | None = None,
        api_url: str = IN_CLUSTER_API,
        token_file: Path | None = SERVICE_ACCOUNT_DIR / "token",
        ca_file: Path | None = SERVICE_ACCOUNT_DIR / "ca.crt",
        namespace_file: Path = SERVICE_ACCOUNT_DIR / "namespace",
        projects_claim: str | None = None,
        projects_root: Path | None = None,
        poll_seconds: float = 0.5,
        max_poll_seconds: float = 5.0,
        grace_seconds: float = 30.0,
        start_seconds: int = 120,
        ttl_seconds: int = 600,
        max_cpu_millis: int = 4000,
        suffix: Callable[[], str] | None = None,
    ) -> None:
        if not image:
            raise SandboxError("the Kubernetes sandbox needs an image (SWARMYARD_KUBERNETES_IMAGE)")
        self.namespace = namespace or read_secret_file(namespace_file, "namespace file")
        self.api_url = api_url.rstrip("/")
        self._token_file = token_file
        self._ca_file = ca_file
        self._shape = JobShape(
            image=image,
            ttl_seconds=ttl_seconds,
            start_seconds=start_seconds,
            max_cpu_millis=max_cpu_millis,
            projects_claim=projects_claim or None,
            projects_root=projects_root,
        )
        self._poll = poll_seconds
        self._max_poll = max(max_poll_seconds, poll_seconds)
        self._grace = grace_seconds
        self._suffix = suffix or (lambda: secrets.token_hex(4))

    def manifest(self, command: SandboxCommand, name: str) -> dict[str, Any]:
        """The Job `run` creates for `command` (under `name`)."""
        return job_manifest(command, name, self._shape)

    async def run(self, command: SandboxCommand) -> SandboxResult:
        check_dirs(command)
        if command.stdin:
            raise SandboxError(
                f"a Kubernetes Job has no input stream: the command's {len(command.stdin)} "
                "bytes of stdin cannot be given to it"
            )
        name = job_name(command.scratch, self._suffix)
        job = self.manifest(command, name)
        # Read for every run: the kubelet rotates projected tokens.
        token = None
        if self._token_file is not None:
            token = read_secret_file(self._token_file, "service account token")
        started = time.monotonic()
        async with client(self.api_url, token=token or None, ca_file=self._ca_file) as http:
            api = KubeApi(http, self.namespace)
            try:
                await api.create_job(job)
            except KubeApiError:
                raise  # refused (a 409 names another's Job): nothing of ours to delete
            except BaseException:
                await self._delete(api, name)  # cut off mid-call: it may exist
                raise
            try:
                return await self._finish(api, command, name, started)
            finally:
                await self._delete(api, name)

    async def _finish(
        self, api: KubeApi, command: SandboxCommand, name: str, started: float
    ) -> SandboxResult:
        deadline = started + deadline_seconds(command.limits) + self._shape.start_seconds
        job = await self._wait(api, name, deadline + self._grace)
        pod = _latest(await api.job_pods(name))
        terminated = _terminated(pod)
        if terminated is not None and _start_failed(terminated):
            return self._not_started(command, terminated)
        code, sig, reason = _outcome(name, job, pod, terminated)
        log = None
        if pod is not None:
            log = await api.read_log(
                pod["metadata"]["name"], CONTAINER, command.limits.output_bytes
            )
        kept, dropped = log or (b"", False)
        return SandboxResult(
            exit_code=code,
            stdout=kept.decode("utf-8", "replace"),
            stderr="",  # merged into stdout by the container runtime
            stdout_truncated=dropped,
            stderr_truncated=False,
            reason=reason,
            signal=sig,
            duration_seconds=round(time.monotonic() - started, 3),
            sandbox=self.name,
        )

    async def _wait(self, api: KubeApi, name: str, give_up: float) -> dict[str, Any]:
        """Poll the Job until it ends, backing off; past `give_up` the Job as it is."""
        delay = self._poll
        while True:
            job = await api.get_job(name)
            if _ended(job) is not None:
                return job
            now = time.monotonic()
            if now >= give_up:
                return job
            _never_starts(name, await api.job_pods(name))
            await asyncio.sleep(min(delay, give_up - now))
            delay = min(delay * 1.5, self._max_poll)

    def _not_started(self, command: SandboxCommand, terminated: dict[str, Any]) -> SandboxResult:
        message = str(terminated.get("message") or terminated.get("reason"))
        if any(marker in message for marker in _NOT_FOUND):
            return not_found(command.argv[0], sandbox=self.name)
        raise SandboxError(f"the command could not start in its pod: {message}")

    async def _delete(self, api: KubeApi, name: str) -> None:
        try:
            async with asyncio.timeout(_DELETE_SECONDS):
                await api.delete_job(name)
        except (SandboxError, TimeoutError) as exc:
            _log.warning("sandbox Job %s not deleted (its TTL will remove it): %s", name, exc)


def _ended(job: dict[str, Any]) -> dict[str, Any] | None:
    """The Job's Complete or Failed condition, once it has one."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return dict(condition)
    return None


def _latest(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The pod whose container ended, the newest if several."""
    if not pods:
        return None
    return max(
        pods,
        key=lambda p: (_terminated(p) is not None, p["metadata"].get("creationTimestamp", "")),
    )


def _container(pod: dict[str, Any] | None) -> dict[str, Any]:
    if pod is None:
        return {}
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER:
            return dict(status)
    return {}


def _terminated(pod: dict[str, Any] | None) -> dict[str, Any] | None:
    state = _container(pod).get("state") or {}
    terminated = state.get("terminated")
    return dict(terminated) if isinstance(terminated, dict) else None


def _start_failed(terminated: dict[str, Any]) -> bool:
    return terminated.get("reason") in ("StartError", "ContainerCannotRun")


def _never_starts(name: str, pods: list[dict[str, Any]]) -> None:
    for pod in pods:
        waiting = (_container(pod).get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in _NEVER_STARTS:
            raise SandboxError(
                f"the pod of Job {name} cannot start its container ({waiting['reason']}): "
                f"{waiting.get('message', '')}".rstrip(": ")
            )


def _outcome(
    name: str,
    job: dict[str, Any],
    pod: dict[str, Any] | None,
    terminated: dict[str, Any] | None,
) -> tuple[int, int | None, EndReason]:
    """(exit code, signal, reason), in the shell's convention of the port."""
    ended = _ended(job)
    pod_status = pod.get("status", {}) if pod else {}
    code = int(terminated.get("exitCode", 0)) if terminated else 128 + signal.SIGKILL
    sig = code - 128 if 128 < code <= 128 + 64 else None
    if ended is None or "DeadlineExceeded" in (ended.get("reason"), pod_status.get("reason")):
        sig = sig or signal.SIGKILL
        return 128 + sig, sig, EndReason.TIMEOUT
    if pod_status.get("reason") == "Evicted" and "EmptyDir" in str(pod_status.get("message")):
        return 128 + signal.SIGKILL, signal.SIGKILL, EndReason.FILE_SIZE  # scratch past its size
    if terminated is None:
        why = ended.get("message") or pod_status.get("message") or ended.get("reason")
        raise SandboxError(f"Job {name} ended without its command running: {why}")
    if terminated.get("reason") == "OOMKilled":
        return 128 + signal.SIGKILL, signal.SIGKILL, EndReason.MEMORY
    if sig == signal.SIGXCPU:
        return code, sig, EndReason.CPU
    if sig == signal.SIGXFSZ:
        return code, sig, EndReason.FILE_SIZE
    if sig is not None:
        return code, sig, EndReason.SIGNAL
    return code, None, EndReason.EXITED
