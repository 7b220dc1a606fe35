"""The first start's owner key, written where the CLI finds it.

Embedded mode has no sign-up page: on the very first start the `default`
workspace gets an owner API key, saved to ``<data-dir>/credentials.json``
(readable by the owner of the file only) and printed once. The CLI uses
that file unless told otherwise.
"""

from __future__ import annotations

import json
import os
import sys

from ..config import Settings
from ..domain import ApiKey

__all__ = ["CREDENTIALS_FILE", "write_credentials"]

CREDENTIALS_FILE = "credentials.json"


def write_credentials(settings: Settings, key: ApiKey, plaintext: str) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / CREDENTIALS_FILE
    body = {
        "url": f"http://{settings.host}:{settings.port}",
        "workspace": key.workspace_id,
        "api_key": plaintext,
        "key_id": key.id,
        "role": key.role.value,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(body, fh, indent=2)
    os.chmod(path, 0o600)  # also when the file existed with wider permissions
    print(
        f"Owner API key of workspace '{key.workspace_id}' (shown once, saved to {path}):\n"
        f"  {plaintext}",
        file=sys.stderr,
        flush=True,
    )
