"""Anthropic's Messages API on the wire: ``message`` bodies, the named
server-sent events of a stream (message_start, content_block_start/delta/stop
for text and tool_use, message_delta with the final usage, message_stop) and
``{"type": "error", "error": {…}}`` errors."""

from __future__ import annotations

import json
from typing import Any

from ._outcomes import ErrorReply, RecordedRequest, Reply, argument_pieces, text_pieces

__all__ = ["answer", "error", "events"]

_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def answer(reply: Reply, model: str, serial: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text or not reply.tool_calls:
        content.append({"type": "text", "text": reply.text})
    content += [
        {
            "type": "tool_use",
            "id": _call_id(call.id, index),
            "name": call.name,
            "input": dict(call.args),
        }
        for index, call in enumerate(reply.tool_calls)
    ]
    return {
        **_message(model, serial),
        "content": content,
        "stop_reason": _stop_reason(reply),
        "usage": _usage(reply, reply.output_tokens),
    }


def events(reply: Reply, model: str, serial: int, request: RecordedRequest) -> list[bytes]:
    start = {**_message(model, serial), "content": [], "stop_reason": None}
    # The opening usage counts the first output token; message_delta carries the total.
    stream: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**start, "usage": _usage(reply, 1)}},
        {"type": "ping"},
    ]
    index = 0
    if reply.text or not reply.tool_calls:
        stream.append(_block_start(index, {"type": "text", "text": ""}))
        stream += [
            _block_delta(index, {"type": "text_delta", "text": piece})
            for piece in text_pieces(reply.text)
        ]
        stream.append({"type": "content_block_stop", "index": index})
        index += 1
    for number, call in enumerate(reply.tool_calls):
        block = {"type": "tool_use", "id": _call_id(call.id, number), "name": call.name}
        stream.append(_block_start(index, {**block, "input": {}}))
        stream += [
            _block_delta(index, {"type": "input_json_delta", "partial_json": part})
            for part in argument_pieces(call.args)
        ]
        stream.append({"type": "content_block_stop", "index": index})
        index += 1
    stream.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        }
    )
    stream.append({"type": "message_stop"})
    return [
        f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode()
        for e in stream
    ]


def error(failure: ErrorReply, message: str) -> tuple[dict[str, Any], dict[str, str]]:
    kind = failure.code or _ERRORS.get(failure.status, "api_error")
    body = {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_fake",
    }
    headers = {"request-id": "req_fake"}
    if failure.retry_after is not None:
        headers["retry-after"] = f"{failure.retry_after:g}"
    return body, headers


def _message(model: str, serial: int) -> dict[str, Any]:
    return {
        "id": f"msg_fake{serial}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "stop_sequence": None,
    }


def _usage(reply: Reply, output_tokens: int) -> dict[str, Any]:
    # Anthropic's `input_tokens` leaves out the tokens read from the cache.
    return {
        "input_tokens": reply.input_tokens - reply.cached_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": reply.cached_tokens,
        "cache_creation_input_tokens": 0,
    }


def _stop_reason(reply: Reply) -> str:
    if reply.truncated:
        return "max_tokens"
    return "tool_use" if reply.tool_calls else "end_turn"


def _block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def _call_id(given: str | None, index: int) -> str:
    return given or f"toolu_fake{index}"
