"""The pods of the fake Kubernetes API server, and the kubelets that run them.

A kubelet is an async function given a `FakePod`: it marks the container
running (`start`), appends to its log, and answers how the container ended
(`ContainerEnd`), or never answers until a deadline or the Job's deletion
cancels it. The scripted ones play each way a pod ends on a real node;
`ProcessKubelet` runs the container's command as a local process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEADLINE_MESSAGE",
    "ContainerEnd",
    "FakePod",
    "Kubelet",
    "ProcessKubelet",
    "evicted_for_scratch",
    "exits",
    "holds",
    "never_scheduled",
    "now",
    "oom_killed",
    "start_error",
    "waits_for_image",
]

IMAGE_PATH = "/usr/local/bin:/usr/bin:/bin"  # the PATH the fake image's ENV sets
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


@dataclass(frozen=True, slots=True)
class ContainerEnd:
    """How the container ended, as the kubelet reports it."""

    exit_code: int = 0
    reason: str = "Completed"  # Completed, Error, OOMKilled, StartError...
    message: str = ""
    pod_reason: str | None = None  # DeadlineExceeded, Evicted
    pod_message: str = ""


@dataclass
class FakePod:
    """One pod of a Job: its spec, its log so far, and its status object."""

    name: str
    namespace: str
    job: str
    labels: dict[str, str]
    spec: dict[str, Any]
    created: str
    log: bytearray = field(default_factory=bytearray)
    status: dict[str, Any] = field(default_factory=lambda: {"phase": "Pending"})
    running: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def container(self) -> dict[str, Any]:
        container: dict[str, Any] = self.spec["containers"][0]
        return container

    def start(self) -> None:
        """The container runs: the pod's own deadline counts from now."""
        self.status = {
            "phase": "Running",
            "startTime": now(),
            "containerStatuses": [self._container_status({"running": {"startedAt": now()}})],
        }
        self.running.set()

    def wait_in(self, reason: str, message: str) -> None:
        """The container cannot start yet (ImagePullBackOff, say)."""
        waiting = {"waiting": {"reason": reason, "message": message}}
        self.status = {"phase": "Pending", "containerStatuses": [self._container_status(waiting)]}

    def end(self, end: ContainerEnd) -> None:
        terminated = {
            "exitCode": end.exit_code,
            "reason": end.reason,
            "startedAt": self.status.get("startTime", now()),
            "finishedAt": now(),
            "containerID": f"containerd://{secrets.token_hex(32)}",
        }
        if end.message:
            terminated["message"] = end.message
        self.status = {
            "phase": "Succeeded" if end.exit_code == 0 and end.pod_reason is None else "Failed",
            "startTime": self.status.get("startTime", now()),
            "containerStatuses": [self._container_status({"terminated": terminated})],
        }
        if end.pod_reason:
            self.status |= {"reason": end.pod_reason, "message": end.pod_message}

    def _container_status(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": self.container["name"],
            "image": self.container["image"],
            "imageID": "",
            "ready": "running" in state,
            "restartCount": 0,
            "started": "running" in state,
            "state": state,
        }

    def manifest(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": self.labels,
                "creationTimestamp": self.created,
                "ownerReferences": [
                    {"apiVersion": "batch/v1", "kind": "Job", "name": self.job, "controller": True}
                ],
            },
            "spec": self.spec | {"nodeName": "fake-node"},
            "status": self.status,
        }


Kubelet = Callable[[FakePod], Coroutine[Any, Any, ContainerEnd]]


def exits(code: int = 0, log: bytes = b"") -> Kubelet:
    async def run(pod: FakePod) -> ContainerEnd:
        pod.start()
        pod.log += log
        return ContainerEnd(code, "Completed" if code == 0 else "Error")

    return run


def oom_killed(log: bytes = b"") -> Kubelet:
    async def run(pod: FakePod) -> ContainerEnd:
        pod.start()
        pod.log += log
        return ContainerEnd(137, "OOMKilled")

    return run


def evicted_for_scratch() -> Kubelet:
    async def run(pod: FakePod) -> ContainerEnd:
        pod.start()
        limit = pod.spec["volumes"][0]["emptyDir"]["sizeLimit"]
        message = f'Usage of EmptyDir volume "scratch" exceeds the limit "{limit}". '
        return ContainerEnd(137, "ContainerStatusUnknown", "", "Evicted", message)

    return run


def start_error(message: str) -> Kubelet:
    async def run(pod: FakePod) -> ContainerEnd:
        return ContainerEnd(128, "StartError", message)

    return run


def holds(log: bytes = b"") -> Kubelet:
    """Runs until something stops it: a deadline, or the Job's deletion."""

    async def run(pod: FakePod) -> ContainerEnd:
        pod.start()
        pod.log += log
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return run


def never_scheduled() -> Kubelet:
    """The pod stays Pending (no node fits it): only the Job's deadline ends it."""
    return _pending(lambda pod: None)


def waits_for_image(message: str) -> Kubelet:
    """The image cannot be pulled: the container waits in ImagePullBackOff."""
    return _pending(lambda pod: pod.wait_in("ImagePullBackOff", message))


def _pending(effect: Callable[[FakePod], None]) -> Kubelet:
    async def run(pod: FakePod) -> ContainerEnd:
        effect(pod)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return run


class ProcessKubelet:
    """Runs the container's command as a local process (stdout and stderr
    merged, as a container's log is), killing its process group when the
    pod's deadline passes or the Job is deleted."""

    async def __call__(self, pod: FakePod) -> ContainerEnd:
        container = pod.container
        env = {"PATH": IMAGE_PATH} | {e["name"]: e["value"] for e in container.get("env", [])}
        argv = container["command"]
        cwd = Path(container.get("workingDir") or "/")
        program = argv[0] if "/" not in argv[0] else str(cwd / argv[0])
        if shutil.which(program, path=env["PATH"]) is None:
            return ContainerEnd(
                128,
                "StartError",
                "failed to create containerd task: failed to create shim task: OCI runtime "
                f'create failed: unable to start container process: exec: "{argv[0]}": '
                "executable file not found in $PATH: unknown",
            )
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        pod.start()
        try:
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(64 << 10):
                pod.log += chunk
            code = await proc.wait()
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        code = 128 - code if code < 0 else code
        return ContainerEnd(code, "Completed" if code == 0 else "Error")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
