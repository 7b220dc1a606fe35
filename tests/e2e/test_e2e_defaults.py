"""`swarmyard serve` with no settings at all: embedded, on 127.0.0.1:8420, data in ~/.swarmyard."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_serve_with_no_settings(tmp_path: Path, clean_env: Any) -> None:
    exe = shutil.which("swarmyard")
    assert exe, "the swarmyard command is installed with the package"
    proc = subprocess.Popen(
        [exe, "serve"],
        env=clean_env(HOME=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # readiness probe
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                health = httpx.get("http://127.0.0.1:8420/healthz", timeout=1).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        assert health == {"status": "ok", "version": health["version"], "mode": "embedded"}
        assert (tmp_path / ".swarmyard" / "swarmyard.db").exists()
        catalog = httpx.get("http://127.0.0.1:8420/api/v1/catalog").json()["items"]
        assert len(catalog) == 13
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()
    assert b"Traceback" not in err
    assert b"Running upgrade" not in err
