"""Short-term memory: a run's conversation kept within a token budget.

A long run piles up tool results (files read, pages fetched, searches) that
the model needed once, when it asked, and hardly later. Sent whole at every
step they crowd out the task and cost tokens each time. Past the budget the
oldest tool results are cut to their beginning and end with a marker in
between, until the conversation fits again. Never touched: the system
prompt and the task (the first request), anything a person wrote, and the
latest turns, which the model is working on. The checkpoint keeps the
whole history; only what is sent is shortened, so a resumed run compacts
the same way again.

Tokens are estimated as characters / 4: close enough for a budget, and
the same for every provider.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, cast

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_BUDGET_TOKENS",
    "KEEP_LATEST",
    "compact_history",
    "estimate_tokens",
]

CHARS_PER_TOKEN = 4
DEFAULT_BUDGET_TOKENS = 24_000
# Messages at the end left whole: the last two exchanges of calls and results.
KEEP_LATEST = 4
_HEAD_CHARS = 600
_TAIL_CHARS = 300
# Cutting less than this saves too little to be worth hiding anything.
_MIN_SAVING = 200


def _part_chars(part: object) -> int:
    if isinstance(part, ToolReturnPart):
        return len(part.model_response_str())
    if isinstance(part, ToolCallPart):
        return len(part.tool_name) + len(part.args_as_json_str())
    content = getattr(part, "content", "")
    return len(content) if isinstance(content, str) else len(str(content))


def _message_chars(message: ModelMessage) -> int:
    chars = sum(_part_chars(p) for p in message.parts)
    if isinstance(message, ModelRequest) and message.instructions:
        chars += len(message.instructions)
    return chars


def estimate_tokens(messages: Sequence[ModelMessage]) -> int:
    chars = sum(_message_chars(m) for m in messages)
    return -(-chars // CHARS_PER_TOKEN)


def _shortened(text: str) -> str | None:
    """`text` with its middle replaced by a marker, or None if that saves little."""
    omitted = len(text) - _HEAD_CHARS - _TAIL_CHARS
    marker = (
        f"\n[… {omitted} characters of this earlier tool result were left out "
        "to keep the conversation within its budget …]\n"
    )
    if omitted - len(marker) < _MIN_SAVING:
        return None
    return text[:_HEAD_CHARS] + marker + text[-_TAIL_CHARS:]


def _untouchable(message: ModelMessage) -> bool:
    # The system prompt and the task, and anything else a person wrote.
    return isinstance(message, ModelResponse) or any(
        isinstance(p, SystemPromptPart | UserPromptPart) for p in message.parts
    )


def compact_history(
    messages: list[ModelMessage],
    *,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    keep_latest: int = KEEP_LATEST,
) -> list[ModelMessage]:
    """The conversation to send: `messages` itself when it fits the budget,
    else a copy whose oldest tool results are shortened until it fits (or
    nothing more may be shortened). `messages` is never changed."""
    over = sum(_message_chars(m) for m in messages) - budget_tokens * CHARS_PER_TOKEN
    if over <= 0:
        return messages
    compacted = list(messages)
    for index in range(1, max(1, len(messages) - keep_latest)):
        message = compacted[index]
        if _untouchable(message):
            continue
        assert isinstance(message, ModelRequest)
        parts = list(message.parts)
        changed = False
        for n, part in enumerate(parts):
            if over <= 0:
                break
            # Plain tool results only: the structured kinds derived from it
            # (tool search, capability loading) must keep their shape.
            if type(part) is not ToolReturnPart:
                continue
            result = cast("ToolReturnPart[Any, Any]", part)
            text = result.model_response_str()
            short = _shortened(text)
            if short is not None:
                parts[n] = dataclasses.replace(result, content=short)
                over -= len(text) - len(short)
                changed = True
        if changed:
            compacted[index] = dataclasses.replace(message, parts=parts)
        if over <= 0:
            break
    return compacted
