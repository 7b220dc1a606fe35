"""Gemini's generateContent on the wire: ``GenerateContentResponse`` bodies
(candidates → content → parts with ``text`` and ``functionCall``, and
``usageMetadata``), the same objects as server-sent events for
``streamGenerateContent?alt=sse``, and ``{"error": {code, message, status}}``
errors."""

from __future__ import annotations

import json
from typing import Any

from ._outcomes import ErrorReply, RecordedRequest, Reply, text_pieces

__all__ = ["answer", "error", "events"]

_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def answer(reply: Reply, model: str, serial: int) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if reply.text or not reply.tool_calls:
        parts.append({"text": reply.text})
    parts += [_function_call(call.name, dict(call.args), call.id) for call in reply.tool_calls]
    return _response(parts, model, serial, reply, reply.output_tokens, finished=True)


def events(reply: Reply, model: str, serial: int, request: RecordedRequest) -> list[bytes]:
    # Gemini streams text in pieces and each function call whole; every chunk
    # carries the usage so far (cumulative), the last one the totals.
    chunks: list[list[dict[str, Any]]] = [[{"text": piece}] for piece in text_pieces(reply.text)]
    chunks += [[_function_call(c.name, dict(c.args), c.id)] for c in reply.tool_calls]
    if not chunks:
        chunks = [[{"text": ""}]]
    frames = []
    for number, parts in enumerate(chunks, start=1):
        produced = reply.output_tokens * number // len(chunks)
        last = number == len(chunks)
        body = _response(parts, model, serial, reply, produced, finished=last)
        frames.append(f"data: {json.dumps(body, separators=(',', ':'))}\r\n\r\n".encode())
    return frames


def error(failure: ErrorReply, message: str) -> tuple[dict[str, Any], dict[str, str]]:
    details: list[dict[str, Any]] = []
    if failure.retry_after is not None:
        # Gemini says how long to wait in the body, not in a Retry-After header.
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{failure.retry_after:g}s",
            }
        )
    inner: dict[str, Any] = {
        "code": failure.status,
        "message": message,
        "status": failure.code or _STATUSES.get(failure.status, "UNKNOWN"),
    }
    if details:
        inner["details"] = details
    return {"error": inner}, {}


def _response(
    parts: list[dict[str, Any]],
    model: str,
    serial: int,
    reply: Reply,
    produced: int,
    *,
    finished: bool,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finished:
        candidate["finishReason"] = "MAX_TOKENS" if reply.truncated else "STOP"
    usage: dict[str, Any] = {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": produced,
        "totalTokenCount": reply.input_tokens + produced,
    }
    if reply.cached_tokens:
        usage["cachedContentTokenCount"] = reply.cached_tokens
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": f"fake{serial}",
    }


def _function_call(name: str, args: dict[str, Any], call_id: str | None) -> dict[str, Any]:
    call: dict[str, Any] = {"name": name, "args": args}
    if call_id:
        call["id"] = call_id
    return {"functionCall": call}
