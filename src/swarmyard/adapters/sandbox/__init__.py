"""Sandboxes for commands agents run: bubblewrap, unsandboxed, none, scripted.

`choose_sandbox` picks one by detection (or the operator's setting). A
Kubernetes Job runner (one pod per command) is not built yet.
"""

from .bubblewrap import BubblewrapSandbox, default_run_as
from .detect import SANDBOX_MODES, SandboxMode, bubblewrap_problem, choose_sandbox
from .lazy import LazySandbox
from .memory import ScriptedSandbox, result
from .unavailable import UnavailableSandbox
from .unsandboxed import UnsandboxedRunner

__all__ = [
    "SANDBOX_MODES",
    "BubblewrapSandbox",
    "LazySandbox",
    "SandboxMode",
    "ScriptedSandbox",
    "UnavailableSandbox",
    "UnsandboxedRunner",
    "bubblewrap_problem",
    "choose_sandbox",
    "default_run_as",
    "result",
]
