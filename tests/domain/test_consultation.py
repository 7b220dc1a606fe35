"""The consultation wire format, its limits, and reading a decision's choice."""

from __future__ import annotations

import json

import pytest

from swarmyard.domain.consultation import (
    DEFAULT_DEADLINE_SECONDS,
    ConsultKind,
    ConsultReply,
    ConsultRequest,
    MalformedConsultation,
    check_deadline,
    check_options,
    consult_prompt,
    read_choice,
)

OPTIONS = ("Use PostgreSQL", "Use SQLite", "Defer")


def decision() -> ConsultRequest:
    return ConsultRequest(
        kind=ConsultKind.DECISION,
        workspace_id="ws1",
        role="decision-maker",
        asking_role="architect",
        run_id="run_1",
        task_id="task_1",
        question="Which database?",
        options=OPTIONS,
        context="Single host, low write rate.",
        deadline_seconds=30.0,
    )


def test_a_request_and_a_reply_survive_the_wire() -> None:
    request = decision()
    assert ConsultRequest.from_bytes(request.to_bytes()) == request
    reply = ConsultReply(
        ok=True, role="decision-maker", answer="Choice: 2", choice=2, option="Use SQLite"
    )
    assert ConsultReply.from_bytes(reply.to_bytes()) == reply
    refusal = ConsultReply.refusal("architect", "no active architect agent")
    assert ConsultReply.from_bytes(refusal.to_bytes()) == refusal


def test_a_reply_carries_what_answering_cost() -> None:
    paid = ConsultReply(ok=True, role="architect", answer="Behind the port.", cost_microusd=52_000)
    paid = ConsultReply.from_bytes(paid.to_bytes())
    assert (paid.cost_microusd, paid.tokens_in, paid.tokens_out) == (52_000, 0, 0)
    refused = ConsultReply(
        ok=False, role="architect", error="empty", cost_microusd=7, tokens_in=5, tokens_out=1
    )
    assert ConsultReply.from_bytes(refused.to_bytes()) == refused
    # An answerer from before costs were sent: nothing to add.
    older = ConsultReply.from_bytes(b'{"v": 1, "ok": true, "role": "architect", "answer": "x"}')
    assert older.cost_microusd == 0
    with pytest.raises(MalformedConsultation, match="cost_microusd must be a whole number"):
        ConsultReply.from_bytes(b'{"v": 1, "ok": true, "role": "a", "cost_microusd": -1}')


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"v": 99}', "protocol version 99"),
        (b'{"v": 1, "kind": "gossip"}', "kind 'gossip'"),
    ],
)
def test_malformed_messages_are_named(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedConsultation, match=problem):
        ConsultRequest.from_bytes(body)


def test_a_request_is_validated_on_reading_too() -> None:
    body = json.loads(decision().to_bytes())
    with pytest.raises(MalformedConsultation, match="question must not be empty"):
        ConsultRequest.from_bytes(json.dumps(body | {"question": "  "}).encode())
    with pytest.raises(MalformedConsultation, match="2 to 10 choices"):
        ConsultRequest.from_bytes(json.dumps(body | {"options": ["only"]}).encode())
    with pytest.raises(MalformedConsultation, match="decisions are asked of the decision-maker"):
        ConsultRequest.from_bytes(json.dumps(body | {"role": "architect"}).encode())
    with pytest.raises(MalformedConsultation, match="run_id must be a non-empty string"):
        ConsultRequest.from_bytes(json.dumps(body | {"run_id": ""}).encode())


def test_limits_of_the_arguments() -> None:
    assert check_deadline(None) == DEFAULT_DEADLINE_SECONDS
    assert check_deadline(300) == 300.0
    for bad in (0, 0.5, 301, True, "60"):
        with pytest.raises(MalformedConsultation, match="deadline_seconds"):
            check_deadline(bad)
    with pytest.raises(MalformedConsultation, match="option 2 repeats"):
        check_options(["Yes", "yes"])
    with pytest.raises(MalformedConsultation, match="option 1 must be a non-empty string"):
        check_options(["", "No"])
    with pytest.raises(MalformedConsultation, match="2 to 10 choices, not 11"):
        check_options([f"o{i}" for i in range(11)])


def test_the_prompt_carries_the_asker_the_task_the_question_and_numbered_options() -> None:
    note, user = consult_prompt(decision(), "Store the audit trail")
    assert "Choice: N" in note
    assert user.startswith("The architect role asks you to decide")
    assert "“Store the audit trail”" in user
    assert "Which database?" in user
    assert "1. Use PostgreSQL\n2. Use SQLite\n3. Defer" in user
    assert "Single host" in user


@pytest.mark.parametrize(
    ("answer", "index"),
    [
        ("Choice: 2\nIt is simpler.", 1),
        ("**Choice:** use sqlite — it is simpler", 1),
        ("[offline model] Choice: 3\n\nwhy", 2),
        ("Decision: B — Use SQLite.", 1),
        ("Choice: option 1", 0),
        ("Use SQLite", 1),
        ("3", 2),
        ("After weighing it all, I would Defer.", 2),
    ],
)
def test_the_choice_is_read_from_number_letter_or_text(answer: str, index: int) -> None:
    choice = read_choice(answer, OPTIONS)
    assert choice is not None
    assert choice.index == index


@pytest.mark.parametrize(
    "answer",
    [
        "Choice: 7",
        "It depends on the load.",
        "Decision: a cache in front of it",
        "Either Use PostgreSQL or Use SQLite would do.",
    ],
)
def test_an_answer_that_settles_on_no_option_is_no_choice(answer: str) -> None:
    assert read_choice(answer, OPTIONS) is None


def test_the_rationale_is_what_follows_the_choice_line() -> None:
    choice = read_choice("Choice: 1\n\nIt scales with the write rate.", OPTIONS)
    assert choice is not None
    assert choice.rationale == "It scales with the write rate."
