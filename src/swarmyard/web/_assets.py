"""Static files under a content-versioned prefix, so browsers may keep them forever.

Pages link ``/static/<version>/js/pages/board.js``; the version is a digest
of every file shipped, so any change to any file changes every URL. Module
imports are relative, so they inherit the prefix and need no version of
their own. A URL with another version (a page rendered before an upgrade)
still gets the current file, but one the browser must revalidate.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "StaticAssets", "asset_version"]

STATIC_DIR = Path(__file__).parent / "static"
VERSION_PREFIX = "v-"

_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
# The platform's MIME table varies by distribution; module scripts and
# stylesheets are refused under `nosniff` when it guesses wrong.
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def asset_version(directory: Path = STATIC_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return f"{VERSION_PREFIX}{digest.hexdigest()[:12]}"


class StaticAssets(StaticFiles):
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        super().__init__(directory=directory)
        self.version = asset_version(directory)

    def url(self, path: str) -> str:
        return f"/static/{self.version}/{path.lstrip('/')}"

    async def get_response(self, path: str, scope: Scope) -> Response:
        first, sep, rest = path.partition(os.sep)
        versioned = bool(sep) and first.startswith(VERSION_PREFIX)
        response = await super().get_response(rest if versioned else path, scope)
        if response.status_code in (200, 304):
            current = versioned and first == self.version
            response.headers["cache-control"] = _IMMUTABLE if current else _REVALIDATE
            media_type = _TYPES.get(Path(path).suffix)
            if media_type and response.status_code == 200:
                response.headers["content-type"] = media_type
        return response
