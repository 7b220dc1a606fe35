"""`http.fetch`: read a public web page or API, through the SSRF-safe fetcher.

Its spec declares what it does for the policy gate: it sends data out
(egress: the URL itself can carry what the run has read) and brings back
text anyone on the internet may have written (untrusted content).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...ports import ToolContext, ToolError, ToolSpec
from ...ports.net import FetchError, FetchResult, HttpFetcher

__all__ = ["HttpFetchTool"]

DEFAULT_MAX_CHARS = 20_000
_CHARSET = re.compile(r"charset=\"?([\w.:-]+)", re.IGNORECASE)
_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|xml|javascript|ecmascript|x-www-form-urlencoded)|"
    r"application/[\w.+-]+\+(json|xml)|image/svg\+xml)",
    re.IGNORECASE,
)


class HttpFetchTool:
    def __init__(self, fetcher: HttpFetcher, *, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self._fetcher = fetcher
        self._max_chars = max_chars
        self.spec = ToolSpec(
            name="http.fetch",
            description=(
                "Fetch a public http(s) URL with GET and read the answer: status, content "
                "type and the text (cut after max_chars). Addresses of private networks, "
                "this host and cloud metadata services are refused."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "url": {"type": "string", "description": "An http:// or https:// URL"},
                    "max_chars": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": max_chars,
                        "description": f"Characters of text to return (at most {max_chars})",
                    },
                },
                "required": ["url"],
                "additionalProperties": False,
            },
            effects=frozenset({"egress", "untrusted_content"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        url = args.get("url")
        if not isinstance(url, str) or not url:
            raise ToolError("http.fetch needs url")
        limit = _chars(args.get("max_chars"), self._max_chars)
        try:
            result = await self._fetcher.fetch(url)
        except FetchError as exc:
            raise ToolError(exc.message) from None
        return json.dumps(_answer(result, limit))


def _chars(value: object, ceiling: int) -> int:
    if value is None:
        return ceiling
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError("max_chars must be a positive integer")
    return min(value, ceiling)


def _answer(result: FetchResult, limit: int) -> dict[str, Any]:
    content_type = result.content_type
    answer: dict[str, Any] = {
        "url": result.url,
        "status": result.status,
        "content_type": content_type,
        "bytes": len(result.body),
        "redirects": list(result.redirects),
    }
    if content_type and not _TEXT_TYPES.match(content_type):
        answer["text"] = None
        answer["note"] = f"binary content ({content_type}) is not shown"
        answer["truncated"] = result.truncated
        return answer
    text = _decode(result.body, content_type)
    answer["text"] = text[:limit]
    answer["truncated"] = result.truncated or len(text) > limit
    return answer


def _decode(body: bytes, content_type: str) -> str:
    match = _CHARSET.search(content_type)
    charset = match.group(1) if match else "utf-8"
    try:
        return body.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", "replace")
