"""Sandboxes for commands agents run: bubblewrap, Kubernetes Jobs, unsandboxed,
none, scripted.

`choose_sandbox` picks one by detection (or the operator's setting); the
Kubernetes Job runner (one pod per command) only when the operator asks.
"""

from .bubblewrap import BubblewrapSandbox, default_run_as
from .detect import (
    SANDBOX_MODES,
    SandboxMode,
    bubblewrap_problem,
    choose_sandbox,
    kubernetes_sandbox,
)
from .kubernetes import KubernetesJobSandbox
from .lazy import LazySandbox
from .memory import ScriptedSandbox, result
from .unavailable import UnavailableSandbox
from .unsandboxed import UnsandboxedRunner

__all__ = [
    "SANDBOX_MODES",
    "BubblewrapSandbox",
    "KubernetesJobSandbox",
    "LazySandbox",
    "SandboxMode",
    "ScriptedSandbox",
    "UnavailableSandbox",
    "UnsandboxedRunner",
    "bubblewrap_problem",
    "choose_sandbox",
    "default_run_as",
    "kubernetes_sandbox",
    "result",
]
