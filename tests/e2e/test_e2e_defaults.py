"""`swarmyard serve` with no settings at all: embedded, on 127.0.0.1:8420, data in ~/.swarmyard."""

from __future__ import annotations

import json
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
        data_dir = tmp_path / ".swarmyard"
        assert (data_dir / "swarmyard.db").exists()
        creds_file = data_dir / "credentials.json"
        assert creds_file.stat().st_mode & 0o777 == 0o600
        creds = json.loads(creds_file.read_text())
        assert (creds["workspace"], creds["role"]) == ("default", "owner")
        assert httpx.get("http://127.0.0.1:8420/api/v1/catalog").status_code == 401
        catalog = httpx.get(
            "http://127.0.0.1:8420/api/v1/catalog",
            headers={"Authorization": f"Bearer {creds['api_key']}"},
        ).json()
        assert len(catalog["items"]) == 13
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()
    assert b"Traceback" not in err
    assert b"Running upgrade" not in err
    assert creds["api_key"].encode() in err  # printed once, on the first start
