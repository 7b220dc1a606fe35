"""Choose the sandbox of this host, once, at start-up.

"auto" uses bubblewrap when it is installed *and works* here (a container
without user namespaces has the binary but cannot use it), else no sandbox
(commands refused unless a policy allows them unsandboxed). An operator can
force one (`SWARMYARD_SANDBOX`): "bubblewrap" fails start-up when it does
not work, "unsandboxed" runs every command on the host with limits only,
and "none" acts as a host without a sandbox (commands refused unless a
policy allows running them unsandboxed).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from ...ports.sandbox import Sandbox, SandboxCommand, SandboxError, SandboxLimits
from ._process import base_env
from .bubblewrap import BubblewrapSandbox
from .unavailable import UnavailableSandbox
from .unsandboxed import UnsandboxedRunner

__all__ = ["SANDBOX_MODES", "SandboxMode", "bubblewrap_problem", "choose_sandbox"]

SandboxMode = Literal["auto", "bubblewrap", "unsandboxed", "none"]
SANDBOX_MODES: tuple[SandboxMode, ...] = ("auto", "bubblewrap", "unsandboxed", "none")
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


def choose_sandbox(mode: SandboxMode = "auto") -> Sandbox:
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
