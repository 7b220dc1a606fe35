"""The one rule for tests whose service or tool is missing on the machine.

They skip, saying what is missing; where SWARMYARD_REQUIRE_SERVICES=1 (CI)
says everything must be there, the same absence fails instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["unavailable"]


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}; SWARMYARD_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(reason)
