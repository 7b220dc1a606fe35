"""Choose the sandbox of this host, once, at start-up.

"auto" uses bubblewrap when it is installed *and works* here (a container
without user namespaces has the binary but cannot use it), else no sandbox
(commands refused unless a policy allows them unsandboxed). An operator can
force one (`SWARMYARD_SANDBOX`): "bubblewrap" fails start-up when it does
not work, "unsandboxed" runs every command on the host with limits only,
and "none" acts as a host without a sandbox (commands refused unless a
policy allows running them unsandboxed). "kubernetes" runs each command as
a Job in the cluster (the `SWARMYARD_KUBERNETES_*` settings); detection
never picks it, since a host that can reach an API server has not thereby
been given the right to start pods there.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ...ports.sandbox import Sandbox, SandboxCommand, SandboxError, SandboxLimits
from ._process import base_env
from .bubblewrap import BubblewrapSandbox
from .kubernetes import KubernetesJobSandbox
from .unavailable import UnavailableSandbox
from .unsandboxed import UnsandboxedRunner

if TYPE_CHECKING:
    from ...config import Settings

__all__ = [
    "SANDBOX_MODES",
    "SandboxMode",
    "bubblewrap_problem",
    "choose_sandbox",
    "kubernetes_sandbox",
]

SandboxMode = Literal["auto", "bubblewrap", "unsandboxed", "kubernetes", "none"]
SANDBOX_MODES: tuple[SandboxMode, ...] = ("auto", "bubblewrap", "unsandboxed", "kubernetes", "none")
_PROBE_SECONDS = 15.0


def bubblewrap_problem(sandbox: BubblewrapSandbox | None = None) -> str | None:
    """Why bubblewrap cannot run commands here, or None when a probe
    command ran inside it, limits and all."""
    sandbox = sandbox or BubblewrapSandbox()
    for tool in (sandbox.bwrap, sandbox.prlimit):
        if shutil.which(tool) is None:
            return f"{Path(tool).name} is not installed"
    with tempfile.TemporaryDirectory(prefix="swarmyard-probe-") as tmp:
        scratch = Path(tmp)
        probe = SandboxCommand(
            argv=("true",), scratch=scratch, limits=SandboxLimits(wall_seconds=10, processes=8)
        )
        try:
            sandbox.prepare(probe)
        except SandboxError as exc:
            return str(exc)
        uid, gid = sandbox.run_as or (None, None)
        try:
            done = subprocess.run(
                sandbox.argv(probe),
                env=base_env(scratch, {}),
                cwd=scratch,
                capture_output=True,
                timeout=_PROBE_SECONDS,
                check=False,
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bubblewrap could not be started: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bubblewrap does not work here: {detail[-1] if detail else done.returncode}"
    return None


def kubernetes_sandbox(settings: Settings) -> KubernetesJobSandbox:
    return KubernetesJobSandbox(
        image=settings.kubernetes_image,
        namespace=settings.kubernetes_namespace or None,
        api_url=settings.kubernetes_api_url,
        token_file=settings.kubernetes_token_file,
        ca_file=settings.kubernetes_ca_file,
        namespace_file=settings.kubernetes_namespace_file,
        projects_claim=settings.kubernetes_projects_claim or None,
        projects_root=settings.kubernetes_projects_root,
    )


def choose_sandbox(mode: SandboxMode = "auto", settings: Settings | None = None) -> Sandbox:
    """`settings` are read for "kubernetes" only; without them, from the environment."""
    if mode == "kubernetes":
        if settings is None:
            from ...config import Settings  # noqa: PLC0415  # the only mode that reads them

            settings = Settings()
        return kubernetes_sandbox(settings)
    if mode == "unsandboxed":
        return UnsandboxedRunner()
    if mode == "none":
        return UnavailableSandbox("the sandbox is switched off (SWARMYARD_SANDBOX=none)")
    problem = bubblewrap_problem()
    if problem is None:
        return BubblewrapSandbox()
    if mode == "bubblewrap":
        raise SandboxError(f"SWARMYARD_SANDBOX=bubblewrap, but {problem}")
    return UnavailableSandbox(problem)
