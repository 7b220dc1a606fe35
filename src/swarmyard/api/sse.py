"""Server-Sent Events framing."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["KEEPALIVE", "sse"]

KEEPALIVE = b": keepalive\n\n"


def sse(event: str, data: Any, ident: int | str | None = None) -> bytes:
    lines = []
    if ident is not None:
        lines.append(f"id: {ident}")
    lines.append(f"event: {event}")
    text = json.dumps(data, separators=(",", ":"), default=str)
    lines.append(f"data: {text}")
    return ("\n".join(lines) + "\n\n").encode()
