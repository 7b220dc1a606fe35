"""The batch/v1 Job that runs one sandboxed command, as the API server takes it.

Kept apart from the runner so the object a cluster receives can be read in
one place: every isolation setting (non-root user, read-only root, no
capabilities, no service account token, no service links, labels the
deny-all NetworkPolicy selects) is here, next to how `SandboxLimits` become
resources, deadlines and volume sizes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...ports.sandbox import SandboxCommand, SandboxError, SandboxLimits

__all__ = [
    "CONTAINER",
    "SANDBOX_LABEL",
    "JobShape",
    "cpu_millis",
    "job_manifest",
    "job_name",
    "quantity",
]

# The label the shipped NetworkPolicy (deploy/kubernetes/sandbox.yaml) selects:
# every pod carrying it gets no ingress and no egress at all.
SANDBOX_LABEL = ("swarmyard/sandbox", "command")
RUN_LABEL = "swarmyard/run"
CONTAINER = "command"
NOBODY = 65534
_NAME_PREFIX = "sy-"
_NAME_MAX = 63  # the job controller copies the name into a label value on the pod
_UNSAFE = re.compile(r"[^a-z0-9-]+")
_MIN_CPU_MILLIS = 100


@dataclass(frozen=True, slots=True)
class JobShape:
    """What the operator configured around every command's Job."""

    image: str
    ttl_seconds: int  # a backstop: the runner deletes each Job itself
    start_seconds: int  # scheduling and image pull, on top of the wall time
    max_cpu_millis: int
    projects_claim: str | None = None
    projects_root: Path | None = None


def job_name(scratch: Path, suffix: Callable[[], str]) -> str:
    """A DNS-1123 label from the scratch directory's name (it carries the run)
    and a random suffix, so two commands of one run never share a name."""
    tail = f"-{suffix()}"
    slug = _UNSAFE.sub("-", scratch.name.lower()).strip("-")
    slug = slug[: _NAME_MAX - len(_NAME_PREFIX) - len(tail)].strip("-")
    return f"{_NAME_PREFIX}{slug or 'run'}{tail}"


def quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity: with a binary suffix when exact."""
    for suffix, unit in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def cpu_millis(limits: SandboxLimits, ceiling: int) -> int:
    """CPU seconds become a rate: spread over the wall time, the command
    cannot use more CPU time than its allowance before its deadline."""
    wanted = math.ceil(1000 * max(1, limits.cpu_seconds) / max(limits.wall_seconds, 0.001))
    return max(_MIN_CPU_MILLIS, min(wanted, ceiling))


def deadline_seconds(limits: SandboxLimits) -> int:
    return max(1, math.ceil(limits.wall_seconds))


def job_manifest(command: SandboxCommand, name: str, shape: JobShape) -> dict[str, Any]:
    limits = command.limits
    labels = {
        "app.kubernetes.io/name": "swarmyard-sandbox",
        "app.kubernetes.io/managed-by": "swarmyard",
        SANDBOX_LABEL[0]: SANDBOX_LABEL[1],
        RUN_LABEL: name,
    }
    wall = deadline_seconds(limits)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"swarmyard/scratch": str(command.scratch)},
        },
        "spec": {
            "backoffLimit": 0,  # a failed command is a result, never retried
            # The whole Job, scheduling and image pull included; the pod's
            # own deadline below is the command's wall time.
            "activeDeadlineSeconds": wall + shape.start_seconds,
            "ttlSecondsAfterFinished": shape.ttl_seconds,
            "template": {"metadata": {"labels": labels}, "spec": _pod_spec(command, shape)},
        },
    }


def _pod_spec(command: SandboxCommand, shape: JobShape) -> dict[str, Any]:
    limits = command.limits
    volumes, mounts = _volumes(command, shape)
    cpu = f"{cpu_millis(limits, shape.max_cpu_millis)}m"
    resources = {"cpu": cpu, "memory": quantity(limits.memory_bytes)}
    return {
        "restartPolicy": "Never",
        # Counted from when the node takes the pod: the command's wall time.
        # The pod stays (failed, reason DeadlineExceeded) so its log is read.
        "activeDeadlineSeconds": deadline_seconds(limits),
        "terminationGracePeriodSeconds": 1,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NOBODY,
            "runAsGroup": NOBODY,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": CONTAINER,
                "image": shape.image,
                "command": list(command.argv),
                "workingDir": str(command.cwd or command.scratch),
                "env": [{"name": k, "value": v} for k, v in _env(command).items()],
                # Requests equal to limits: the pod is placed only where it fits.
                "resources": {"limits": resources, "requests": dict(resources)},
                "securityContext": {
                    "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False,
                    "privileged": False,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }


def _env(command: SandboxCommand) -> dict[str, str]:
    # PATH is the image's own (its ENV), unless the caller sets one.
    scratch = str(command.scratch)
    return {"HOME": scratch, "TMPDIR": scratch, "SCRATCH": scratch, "LANG": "C.UTF-8"} | dict(
        command.env
    )


def _volumes(
    command: SandboxCommand, shape: JobShape
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    limits = command.limits
    volumes: list[dict[str, Any]] = [
        {"name": "scratch", "emptyDir": {"sizeLimit": quantity(limits.file_bytes)}},
        {"name": "tmp", "emptyDir": {"sizeLimit": quantity(limits.tmp_bytes)}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "scratch", "mountPath": str(command.scratch)},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if command.cwd is not None and not command.cwd.is_relative_to(command.scratch):
        volumes.append(_project_volume(shape))
        mounts.append(_project_mount(command.cwd, shape))
        mounts += _hidden_mounts(command.cwd, command.hidden, volumes)
    return volumes, mounts


def _project_volume(shape: JobShape) -> dict[str, Any]:
    if shape.projects_claim is None:
        raise SandboxError(
            "a Kubernetes Job sees no project directory: set SWARMYARD_KUBERNETES_PROJECTS_CLAIM "
            "(and SWARMYARD_KUBERNETES_PROJECTS_ROOT) to mount the projects' volume"
        )
    claim = {"claimName": shape.projects_claim, "readOnly": True}
    return {"name": "project", "persistentVolumeClaim": claim}


def _project_mount(cwd: Path, shape: JobShape) -> dict[str, Any]:
    root = shape.projects_root
    if root is None or not cwd.is_relative_to(root):
        raise SandboxError(
            f"the working directory {cwd} is not on the projects' volume "
            f"(SWARMYARD_KUBERNETES_PROJECTS_ROOT={root or ''})"
        )
    mount: dict[str, Any] = {"name": "project", "mountPath": str(cwd), "readOnly": True}
    sub = cwd.relative_to(root).as_posix()
    if sub != ".":
        mount["subPath"] = sub
    return mount


def _hidden_mounts(
    cwd: Path, hidden: tuple[Path, ...], volumes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Hidden directories inside the mounted project get an empty directory
    over them; nothing else of the platform's file system is in the pod."""
    mounts = []
    for index, path in enumerate(hidden):
        if not path.is_relative_to(cwd):
            continue
        if not path.is_dir():
            if path.exists():
                raise SandboxError(
                    f"a Kubernetes pod can hide directories only, not the file {path}"
                )
            continue
        volumes.append({"name": f"hidden-{index}", "emptyDir": {"sizeLimit": "1Ki"}})
        mounts.append({"name": f"hidden-{index}", "mountPath": str(path), "readOnly": True})
    return mounts
