"""OpenAI chat completions on the wire, as api.openai.com (and Ollama, vLLM,
llama.cpp, …) send them: ``chat.completion`` bodies, ``chat.completion.chunk``
server-sent events ending in ``data: [DONE]``, ``{"error": {…}}`` errors."""

from __future__ import annotations

import json
from typing import Any

from ._outcomes import ErrorReply, RecordedRequest, Reply, argument_pieces, text_pieces

__all__ = ["answer", "error", "events"]

_CREATED = 1_700_000_000
# OpenAI's (type, code) for each status; anything else is a server error.
_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def answer(reply: Reply, model: str, serial: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text if reply.text or not reply.tool_calls else None,
        "refusal": None,
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(call.id, index),
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(dict(call.args))},
            }
            for index, call in enumerate(reply.tool_calls)
        ]
    return {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": _finish(reply), "logprobs": None}
        ],
        "usage": _usage(reply),
    }


def events(reply: Reply, model: str, serial: int, request: RecordedRequest) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{serial}",
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": piece}) for piece in text_pieces(reply.text)]
    for index, call in enumerate(reply.tool_calls):
        opening: dict[str, Any] = {
            "index": index,
            "id": _call_id(call.id, index),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [opening]}))
        for part in argument_pieces(call.args):
            delta = {"index": index, "function": {"arguments": part}}
            chunks.append(chunk({"tool_calls": [delta]}))
    chunks.append(chunk({}, _finish(reply)))
    options = request.body.get("stream_options") if isinstance(request.body, dict) else None
    if isinstance(options, dict) and options.get("include_usage"):
        chunks.append({**chunk({}), "choices": [], "usage": _usage(reply)})
    frames = [f"data: {json.dumps(c, separators=(',', ':'))}\n\n".encode() for c in chunks]
    return [*frames, b"data: [DONE]\n\n"]


def error(failure: ErrorReply, message: str) -> tuple[dict[str, Any], dict[str, str]]:
    kind, code = _ERRORS.get(failure.status, ("server_error", None))
    body = {
        "error": {
            "message": message,
            "type": kind,
            "param": None,
            "code": failure.code or code,
        }
    }
    headers = {"x-request-id": "req_fake"}
    if failure.retry_after is not None:
        headers["retry-after"] = f"{failure.retry_after:g}"
    return body, headers


def _usage(reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
    }


def _finish(reply: Reply) -> str:
    if reply.truncated:
        return "length"
    return "tool_calls" if reply.tool_calls else "stop"


def _call_id(given: str | None, index: int) -> str:
    return given or f"call_fake{index}"
