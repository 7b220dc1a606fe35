"""Helpers for tests that run commands in a real sandbox.

Sandboxed commands may run as another user (`nobody`, when the tests run as
root), so their directories must be reachable by it: `scratch_dir` makes one
under the system temporary directory (pytest's own tmp_path is private to
its user), and `SYSTEM_PYTHON` is an interpreter outside any home directory.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..adapters.sandbox import BubblewrapSandbox, bubblewrap_problem

__all__ = ["SYSTEM_PYTHON", "bubblewrap_or_reason", "scratch_dir"]

SYSTEM_PYTHON = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")


def bubblewrap_or_reason() -> BubblewrapSandbox | str:
    """A working bubblewrap sandbox, or why there is none (for a skip message)."""
    sandbox = BubblewrapSandbox()
    problem = bubblewrap_problem(sandbox)
    if problem is None:
        return sandbox
    return f"{problem}: apt-get install -y bubblewrap to run the sandbox tests"


@contextmanager
def scratch_dir(prefix: str = "swarmyard-test-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
