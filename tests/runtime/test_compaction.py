"""Short-term memory: past its budget a conversation sheds the middle of its
oldest tool results, never the system prompt, the task or the latest turns,
and the history itself (the checkpoint) stays whole."""

from __future__ import annotations

import copy

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from swarmyard.runtime.compaction import compact_history, estimate_tokens

SYSTEM = "You are the developer. " * 50
TASK = "Task t1: export the ledger. " * 50


def conversation(results: int, size: int) -> list[ModelMessage]:
    """The opening request, then `results` tool calls each answered with
    `size` characters (`A0…`, `A1…`, … so each result is recognisable)."""
    messages: list[ModelMessage] = [
        ModelRequest(parts=[SystemPromptPart(SYSTEM), UserPromptPart(TASK)])
    ]
    for n in range(results):
        messages.append(
            ModelResponse(parts=[ToolCallPart("read_file", {"path": f"f{n}"}, f"call-{n}")])
        )
        body = f"BEGIN{n}|" + chr(ord("a") + n) * size + f"|END{n}"
        messages.append(ModelRequest(parts=[ToolReturnPart("read_file", body, f"call-{n}")]))
    return messages


def results_of(messages: list[ModelMessage]) -> dict[str, str]:
    return {
        p.tool_call_id: p.model_response_str()
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, ToolReturnPart)
    }


def test_tokens_are_characters_over_four() -> None:
    messages: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart("x" * 40)])]
    assert estimate_tokens(messages) == 10
    messages.append(ModelResponse(parts=[TextPart("y" * 6)]))
    assert estimate_tokens(messages) == 12  # 46 characters, rounded up


def test_a_conversation_within_budget_is_sent_as_it_is() -> None:
    messages = conversation(3, 1000)
    assert compact_history(messages, budget_tokens=10_000) is messages


def test_the_oldest_results_are_cut_first_until_it_fits() -> None:
    messages = conversation(6, 8000)
    before = copy.deepcopy(messages)
    budget = estimate_tokens(messages) - 3000  # about two results too many
    sent = compact_history(messages, budget_tokens=budget)

    assert estimate_tokens(sent) <= budget
    assert messages == before  # the history (the checkpoint) is untouched
    results = results_of(sent)
    for n in (0, 1):
        cut = results[f"call-{n}"]
        assert len(cut) < 2000
        assert cut.startswith(f"BEGIN{n}|")  # the first part
        assert cut.endswith(f"|END{n}")  # and the last part are kept
        assert "characters of this earlier tool result were left out" in cut
    for n in (2, 3, 4, 5):
        assert results[f"call-{n}"] == results_of(messages)[f"call-{n}"]
    # Every call still has its answer, under the same id.
    assert set(results) == {f"call-{n}" for n in range(6)}


def test_prompt_task_and_latest_turns_are_never_cut() -> None:
    messages = conversation(4, 8000)
    sent = compact_history(messages, budget_tokens=100)  # nothing could make it fit
    assert sent[0] is messages[0]
    assert sent[-4:] == messages[-4:]  # the last two exchanges, whole
    results = results_of(sent)
    assert "left out" in results["call-0"]
    assert "left out" in results["call-1"]
    assert "left out" not in results["call-2"]
    assert "left out" not in results["call-3"]
    assert all(isinstance(m, ModelResponse) for m in sent[1::2])
    assert [m for m in sent if isinstance(m, ModelResponse)] == [
        m for m in messages if isinstance(m, ModelResponse)
    ]


def test_short_results_are_left_alone() -> None:
    messages = conversation(8, 500)
    sent = compact_history(messages, budget_tokens=100)
    assert results_of(sent) == results_of(messages)


def test_a_person_s_words_are_kept_even_in_the_middle() -> None:
    messages = conversation(3, 8000)
    note = ModelRequest(parts=[UserPromptPart("Please also cover CSV. " * 200)])
    messages.insert(3, note)
    sent = compact_history(messages, budget_tokens=100)
    assert sent[3] is note
    assert "left out" in results_of(sent)["call-0"]
