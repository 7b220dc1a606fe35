"""The built-in offline model: every role played deterministically, no API key.

Swarmyard must work end to end on a laptop with nothing configured, and its
tests need a model whose output is known in advance. `OfflineModel`
implements the `ModelClient` port directly (no pydantic-ai `Model`, no
HTTP): the answer is a pure function of the call — same task fields and
history, same response, byte for byte, including tool call ids and the
timestamp — so a run resumed on another worker repeats exactly the calls
the first attempt made, and its idempotency keys match.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    ModelResponsePart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.usage import RequestUsage

from ....ports import ModelCall
from .playbook import next_move
from .text import LABEL
from .turn import Reply, Turn

__all__ = ["OFFLINE_MODEL_NAME", "OfflineModel"]

OFFLINE_MODEL_NAME = "swarmyard-offline-1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OfflineModel:
    """A `ModelClient` that plays the 13 built-in roles without an LLM.

    `delay_ms` adds thinking time per call (demos, crash-recovery tests);
    the wait is an `asyncio.sleep`, so cancelling the call (a stop request)
    ends it at once. `provider` and `model` are the names the router knows
    it by (a configured provider of kind ``offline`` may name them).
    """

    offline = True

    def __init__(
        self, *, delay_ms: int = 0, provider: str = "offline", model: str = OFFLINE_MODEL_NAME
    ) -> None:
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
        self.delay_ms = delay_ms
        self.provider = provider
        self.model_name = model

    async def request(self, call: ModelCall) -> ModelResponse:
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000)
        turn = Turn(call)
        return _response(call, turn.step, next_move(turn), self.model_name)

    async def stream(self, call: ModelCall) -> AsyncIterator[str | ModelResponse]:
        """The same answer as `request`, its text in a few deltas, then the response."""
        response = await self.request(call)
        for part in response.parts:
            if isinstance(part, TextPart):
                for piece in _pieces(part.content):
                    yield piece
        yield response


def _pieces(text: str, count: int = 4) -> list[str]:
    """`text` cut at spaces into about `count` pieces that join back to it."""
    words = text.split(" ")
    size = max(1, -(-len(words) // count))
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    pieces = [group + " " for group in groups[:-1]] + groups[-1:]
    return [piece for piece in pieces if piece]


def _response(call: ModelCall, step: int, reply: Reply, model_name: str) -> ModelResponse:
    text = f"{LABEL} {reply.text}"
    parts: list[ModelResponsePart] = [TextPart(text)]
    out_chars = len(text)
    for index, tool in enumerate(reply.calls):
        parts.append(ToolCallPart(tool.name, dict(tool.args), tool_call_id(call, step, index)))
        out_chars += len(tool.name) + len(json.dumps(tool.args))
    return ModelResponse(
        parts=parts,
        usage=RequestUsage(
            input_tokens=_tokens(_message_chars(call.messages)),
            output_tokens=_tokens(out_chars),
        ),
        model_name=model_name,
        provider_name="offline",
        # Stamped with the newest input it answers rather than the wall clock,
        # so the same call serialises to the same bytes.
        timestamp=_newest_stamp(call.messages),
        finish_reason="tool_call" if reply.calls else "stop",
    )


def tool_call_id(call: ModelCall, step: int, index: int) -> str:
    """A tool call id derived from the run and step: a resumed run makes the
    same delegation with the same id, so the subtask it creates (keyed by
    run id + tool call id) is created once. 29 characters, within the id
    length real providers accept, so a history begun offline can continue
    on a real model."""
    seed = f"{call.run_id or call.task_id}:{step}:{index}".encode()
    return "call_" + hashlib.sha256(seed).hexdigest()[:24]


def _tokens(chars: int) -> int:
    # The common rule of thumb of about four characters per token, rounded up.
    return (chars + 3) // 4


def _message_chars(messages: Sequence[ModelMessage]) -> int:
    total = 0
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                total += len(part.tool_name) + len(part.args_as_json_str())
            elif isinstance(part, ToolReturnPart):
                total += len(part.model_response_str())
            else:
                content = getattr(part, "content", None)
                if isinstance(content, str):
                    total += len(content)
                elif isinstance(content, Sequence):
                    total += sum(len(item) for item in content if isinstance(item, str))
    return total


def _newest_stamp(messages: Sequence[ModelMessage]) -> datetime:
    stamps: list[datetime] = []
    for message in messages:
        if message.timestamp is not None:
            stamps.append(message.timestamp)
        stamps.extend(
            stamp
            for part in message.parts
            if isinstance(stamp := getattr(part, "timestamp", None), datetime)
        )
    # A naive stamp would not compare with aware ones; naive means UTC here.
    aware = [s if s.tzinfo is not None else s.replace(tzinfo=UTC) for s in stamps]
    return max(aware, default=_EPOCH)
