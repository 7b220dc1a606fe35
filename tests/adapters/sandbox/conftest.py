"""Sandbox fixtures: bubblewrap (skips without it unless SWARMYARD_REQUIRE_SERVICES=1)
and scratch directories a sandbox user can reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmyard.adapters.sandbox import BubblewrapSandbox
from swarmyard.testing.sandbox import bubblewrap_or_reason, scratch_dir
from swarmyard.testing.skips import unavailable


@pytest.fixture(scope="session")
def bubblewrap() -> BubblewrapSandbox:
    found = bubblewrap_or_reason()
    if isinstance(found, str):
        unavailable(found)
    return found


@pytest.fixture
def scratch() -> Iterator[Path]:
    with scratch_dir() as path:
        yield path


@pytest.fixture
def project() -> Iterator[Path]:
    """A project directory others may read (as a real checkout is)."""
    with scratch_dir("swarmyard-project-") as path:
        path.chmod(0o755)
        (path / "README").write_text("the project\n")
        (path / "README").chmod(0o644)
        yield path
