"""Keeping credentials out of model error messages.

Providers echo request data back in error bodies (an invalid key, a header
dump from a proxy), and an endpoint URL may carry credentials. Every message
a model adapter raises goes through `Redactor.redact`, which removes the
client's own key and anything shaped like a key of the vendors we speak to,
so a key that is not ours (a proxy's, a key pasted into a prompt) is hidden
too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Redactor", "safe_url"]

_HIDDEN = "***"

# (pattern, replacement), applied in order; each keeps the part saying what was hidden.
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers, in any casing, quoted or not.
    (re.compile(r"(?i)\bbearer\s+[^\s,;\"'<>]+"), "Bearer " + _HIDDEN),
    # `x-api-key: …` (Anthropic) and `x-goog-api-key: …` (Gemini), as headers or JSON.
    (
        re.compile(r"(?i)(x-(?:goog-)?api-key[\"']?\s*[:=]\s*[\"']?)[^\s,;\"'&<>]+"),
        r"\g<1>" + _HIDDEN,
    ),
    # `?key=…` / `&api_key=…` query parameters (Gemini accepts its key there).
    (re.compile(r"(?i)([?&](?:api[_-]?)?key=)[^&\s\"'<>]+"), r"\g<1>" + _HIDDEN),
    # Anthropic (`sk-ant-…`), OpenAI (`sk-…`, `sk-proj-…`) and Google (`AIza…`) keys.
    (re.compile(r"\bsk-[A-Za-z0-9_\-*]{6,}"), "sk-" + _HIDDEN),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"), "AIza" + _HIDDEN),
)


class Redactor:
    """Removes one client's key, and any key-shaped text, from messages."""

    def __init__(self, secret: str = "") -> None:
        self._secret = secret

    def redact(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, _HIDDEN)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text


def safe_url(url: str) -> str:
    """The URL without credentials or query string, fit for an error message."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparsable URL: say nothing rather than echo it
        return "the configured endpoint"
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) or "the configured endpoint"
