"""Property-based API testing with schemathesis against the OpenAPI spec of a real
server: a fixed seed and a bounded number of examples, no 5xx, responses within
the schema."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_no_server_errors_and_responses_match_the_schema(
    server_factory: Any, clean_env: Any
) -> None:
    st = shutil.which("st") or shutil.which("schemathesis")
    assert st, "schemathesis is a development dependency"
    server = server_factory(SWARMYARD_RATE_LIMITS_ENABLED="false")
    server.start()
    done = subprocess.run(
        [
            st,
            "run",
            f"{server.url}/api/v1/openapi.json",
            "-H",
            f"Authorization: Bearer {server.api_key()}",
            "--seed",
            "20261122",
            "--max-examples",
            "5",
            "-c",
            "not_a_server_error,response_schema_conformance",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=clean_env(SCHEMATHESIS_TELEMETRY="false"),
    )
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary + done.stderr[-2000:] + server.log()
    assert " passed" in summary
    assert "Traceback" not in server.log()
