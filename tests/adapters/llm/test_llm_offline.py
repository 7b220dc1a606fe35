"""The offline model: deterministic, labelled, and playing every role with
real tool use and delegation."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from swarmyard.adapters.llm import OfflineModel
from swarmyard.adapters.llm.offline import PLAYS
from swarmyard.domain.task import TASK_TYPES
from swarmyard.ports import ModelCall, ModelClient

ROLES = {
    "architect": "design",
    "developer": "implementation",
    "code-reviewer": "review",
    "tester": "test",
    "documenter": "docs",
    "marketer": "marketing",
    "presenter": "presentation",
    "devops": "deploy",
    "monitor": "monitoring",
    "security": "security-audit",
    "project-manager": "planning",
    "decision-maker": "decision",
    "orchestrator": "coordination",
}
# A word or phrase each role's deliverable must contain: proof it played the role.
SIGNATURES = {
    "architect": "## Decision",
    "developer": "Files touched:",
    "code-reviewer": "APPROVED",
    "tester": "Result: PASSED",
    "documenter": "## Getting started",
    "marketer": "Key messages:",
    "presenter": "Slide 1:",
    "devops": "Rollback:",
    "monitor": "Service level objectives:",
    "security": "[HIGH]",
    "project-manager": "Work breakdown:",
    "decision-maker": "Criteria (weight):",
    "orchestrator": "Coordination summary:",
}
BRIEF = (
    "Let users reset their password by email.\n"
    "- Send a single-use reset link valid for 30 minutes\n"
    "- Rate limit reset requests per account\n"
    "- Log every reset for the audit trail"
)


def text_of(response: ModelResponse) -> str:
    return "\n".join(p.content for p in response.parts if isinstance(p, TextPart))


def tool_calls(response: ModelResponse) -> list[ToolCallPart]:
    return [p for p in response.parts if isinstance(p, ToolCallPart)]


@pytest.fixture
def model() -> OfflineModel:
    return OfflineModel()


@pytest.fixture
def call_for(tools: list[Any]) -> Any:
    def build(role: str = "architect", task_type: str = "feature", **fields: Any) -> ModelCall:
        return ModelCall(
            messages=[
                ModelRequest(
                    parts=[SystemPromptPart(f"You are the {role}."), UserPromptPart(BRIEF)]
                )
            ],
            tools=fields.pop("tools", tools),
            role=role,
            run_id=fields.pop("run_id", "run-7"),
            task_id="task-7",
            task_type=task_type,
            task_title=fields.pop("title", "Password reset"),
            task_description=fields.pop("description", BRIEF),
            complexity=fields.pop("complexity", "medium"),
            parent_task_id=fields.pop("parent_task_id", None),
        )

    return build


def test_implements_the_port(model: OfflineModel) -> None:
    client: ModelClient = model
    assert (client.provider, client.model_name, client.offline) == (
        "offline",
        "swarmyard-offline-1",
        True,
    )


async def test_streams_its_text_then_the_same_response(
    model: OfflineModel, call_for: Any, collect: Any
) -> None:
    call = call_for()
    deltas, response = await collect(model.stream(call))
    (text,) = [p.content for p in response.parts if isinstance(p, TextPart)]
    assert len(deltas) > 1
    assert "".join(deltas) == text
    assert ModelMessagesTypeAdapter.dump_json([response]) == ModelMessagesTypeAdapter.dump_json(
        [await model.request(call)]
    )


def test_takes_the_names_the_router_knows_it_by() -> None:
    client = OfflineModel(provider="builtin", model="offline-mid")
    assert (client.provider, client.model_name) == ("builtin", "offline-mid")


async def test_same_call_gives_the_same_bytes(model: OfflineModel, call_for: Any) -> None:
    call = call_for()
    first = await model.request(call)
    # The same input as a resumed run sees it: history loaded back from a checkpoint.
    restored = ModelMessagesTypeAdapter.validate_json(
        ModelMessagesTypeAdapter.dump_json(call.messages)
    )
    second = await OfflineModel().request(replace(call, messages=restored))
    assert tool_calls(first), "the architect's first move on a feature delegates"
    assert ModelMessagesTypeAdapter.dump_json([first]) == ModelMessagesTypeAdapter.dump_json(
        [second]
    )
    assert [c.tool_call_id for c in tool_calls(first)] == [
        c.tool_call_id for c in tool_calls(second)
    ]


async def test_tool_call_ids_follow_run_and_step(model: OfflineModel, call_for: Any) -> None:
    one = tool_calls(await model.request(call_for(run_id="run-a")))[0].tool_call_id
    other = tool_calls(await model.request(call_for(run_id="run-b")))[0].tool_call_id
    assert one != other
    assert one.startswith("call_")
    assert len(one) <= 40


async def test_resumed_run_repeats_every_step(
    model: OfflineModel, drive: Any, delegation: Any, tools: list[Any]
) -> None:
    """A worker that resumes from any checkpoint gets the very response the
    first attempt got at that step: same text, same tool call ids."""

    async def platform(call: ToolCallPart) -> str:
        if call.tool_name == "read_task":
            return json.dumps({"id": "p-1", "title": "Parent", "status": "done"})
        return delegation(result="[offline model] APPROVED")

    fields: dict[str, Any] = dict(
        role="developer",
        task_type="implementation",
        title="Password reset",
        description=BRIEF,
        run_id="run-9",
        task_id="task-9",
        parent_task_id="p-1",
        complexity="medium",
    )
    run = await drive(model, on_tool=platform, **fields)
    assert len(run.responses) == 4
    for recorded in run.responses:
        prefix = run.messages[: run.messages.index(recorded)]
        checkpoint = ModelMessagesTypeAdapter.dump_json(prefix)
        call = ModelCall(
            messages=ModelMessagesTypeAdapter.validate_json(checkpoint),
            tools=tools,
            role="developer",
            run_id="run-9",
            task_id="task-9",
            task_type="implementation",
            task_title="Password reset",
            task_description=BRIEF,
            complexity="medium",
            parent_task_id="p-1",
        )
        again = await OfflineModel().request(call)
        assert ModelMessagesTypeAdapter.dump_json([again]) == (
            ModelMessagesTypeAdapter.dump_json([recorded])
        )


@pytest.mark.parametrize(("role", "task_type"), sorted(ROLES.items()))
async def test_every_role_answers_in_character(
    model: OfflineModel, drive: Any, delegation: Any, role: str, task_type: str
) -> None:
    async def platform(call: ToolCallPart) -> str:
        if call.tool_name == "list_tasks":
            return json.dumps(
                {"tasks": [{"id": "t1", "title": "x", "type": "docs", "status": "todo"}]}
            )
        if call.tool_name == "read_task":
            return json.dumps(
                {
                    "id": call.args_as_dict()["task_id"],
                    "title": "Parent",
                    "type": "feature",
                    "status": "in_progress",
                    "description": "The parent.",
                    "result": None,
                }
            )
        return delegation(result="[offline model] APPROVED\n\nResult: PASSED (1/1)")

    run = await drive(
        model,
        role=role,
        task_type=task_type,
        title="Password reset",
        description=BRIEF,
        on_tool=platform,
    )
    final = run.final_text
    assert final.startswith("[offline model] ")
    assert SIGNATURES[role] in final, final
    assert len(final) > 200  # a deliverable, not a one-liner
    assert not tool_calls(run.responses[-1])


def test_every_built_in_role_has_a_playbook() -> None:
    assert set(PLAYS) == set(ROLES)


async def test_architect_feature_writes_adr_and_delegates_to_developer(
    model: OfflineModel, drive: Any, delegation: Any
) -> None:
    async def platform(call: ToolCallPart) -> str:
        return delegation(
            result="[offline model] ## Change: Password reset\nAll done.", task_id="t-dev"
        )

    run = await drive(
        model,
        role="architect",
        task_type="feature",
        title="Password reset",
        description=BRIEF,
        on_tool=platform,
        complexity="high",
    )
    first = run.responses[0]
    adr = text_of(first)
    for section in ("# ADR:", "## Context", "## Decision", "## Consequences", "high complexity"):
        assert section in adr
    (call,) = tool_calls(first)
    args = call.args_as_dict()
    assert call.tool_name == "delegate"
    assert args["role"] == "developer"
    assert args["type"] == "implementation"
    assert args["title"] == "Implement: Password reset"
    assert "Decision" in args["description"]
    assert "Rate limit reset requests per account" in args["description"]
    assert len(run.responses) == 2
    assert "## Decision" in run.final_text
    assert "t-dev: done" in run.final_text
    assert "All done." in run.final_text


@pytest.mark.parametrize("status", ["refused", "failed"])
async def test_architect_reports_when_implementation_cannot_be_delegated(
    model: OfflineModel, drive: Any, delegation: Any, status: str
) -> None:
    async def platform(call: ToolCallPart) -> str:
        return delegation(status=status, reason="no agent with role developer is installed")

    run = await drive(
        model,
        role="architect",
        task_type="feature",
        title="Password reset",
        description=BRIEF,
        on_tool=platform,
    )
    assert len(run.calls) == 1, "a refused delegation is not retried"
    assert "## Decision" in run.final_text
    assert "no agent with role developer is installed" in run.final_text
    assert "proposal" in run.final_text


async def test_architect_design_reads_parent_then_answers(model: OfflineModel, drive: Any) -> None:
    async def platform(call: ToolCallPart) -> str:
        return json.dumps(
            {
                "id": "p-1",
                "title": "Accounts epic",
                "type": "feature",
                "status": "in_progress",
                "description": "Accounts for everyone.",
                "result": None,
            }
        )

    run = await drive(
        model,
        role="architect",
        task_type="design",
        title="Session storage",
        description="Choose where sessions live.",
        on_tool=platform,
        parent_task_id="p-1",
    )
    assert [c.tool_name for c in run.calls] == ["read_task"]
    assert "Accounts epic" in run.final_text
    assert "## Decision" in run.final_text


async def test_developer_reads_parent_reviews_twice_then_tests(
    model: OfflineModel, drive: Any, delegation: Any
) -> None:
    reviews: list[str] = []

    async def platform(call: ToolCallPart) -> str:
        args = call.args_as_dict()
        if call.tool_name == "read_task":
            return json.dumps(
                {
                    "id": "p-1",
                    "title": "Password reset ADR",
                    "type": "feature",
                    "status": "in_progress",
                    "description": "Reset by email.",
                    "result": None,
                }
            )
        if args["role"] == "code-reviewer":
            reviews.append(args["description"])
            if len(reviews) == 1:
                return delegation(
                    result="[offline model] CHANGES REQUESTED\n\n- the token is never expired",
                    task_id="t-rev1",
                )
            return delegation(result="[offline model] APPROVED\n\nLooks good.", task_id="t-rev2")
        return delegation(
            result="[offline model] Test report\nResult: PASSED (4/4)", task_id="t-test"
        )

    run = await drive(
        model,
        role="developer",
        task_type="implementation",
        title="Implement: Password reset",
        description=BRIEF,
        on_tool=platform,
        parent_task_id="p-1",
    )
    sequence = [(c.tool_name, c.args_as_dict().get("role")) for c in run.calls]
    assert sequence == [
        ("read_task", None),
        ("delegate", "code-reviewer"),
        ("delegate", "code-reviewer"),
        ("delegate", "tester"),
    ]
    assert run.calls[0].args_as_dict() == {"task_id": "p-1"}
    review_args = run.calls[1].args_as_dict()
    assert review_args["type"] == "review"
    assert "Files touched:" in review_args["description"]
    assert "Password reset ADR" in review_args["description"], "the parent informs the change"
    assert "Revision 2" in reviews[1]
    assert "the token is never expired" in reviews[1], "the revision says what changed"
    assert run.calls[3].args_as_dict()["type"] == "test"
    final = run.final_text
    assert "Files touched:" in final
    assert "CHANGES REQUESTED" in final
    assert "APPROVED" in final
    assert "Result: PASSED (4/4)" in final


async def test_developer_revises_only_once(
    model: OfflineModel, drive: Any, delegation: Any
) -> None:
    async def platform(call: ToolCallPart) -> str:
        if call.args_as_dict()["role"] == "code-reviewer":
            return delegation(result="[offline model] CHANGES REQUESTED\n\n- still wrong")
        return delegation(result="Result: PASSED (1/1)")

    run = await drive(
        model,
        role="developer",
        task_type="bugfix",
        title="Fix login crash",
        description="Crash on empty password.",
        on_tool=platform,
    )
    roles = [c.args_as_dict()["role"] for c in run.calls]
    assert roles == ["code-reviewer", "code-reviewer", "tester"]
    assert "still asks for changes" in run.final_text


async def test_developer_skips_refused_roles(
    model: OfflineModel, drive: Any, delegation: Any
) -> None:
    async def platform(call: ToolCallPart) -> str:
        role = call.args_as_dict()["role"]
        return delegation(status="refused", reason=f"no agent with role {role} is installed")

    run = await drive(
        model,
        role="developer",
        task_type="implementation",
        title="Password reset",
        description=BRIEF,
        on_tool=platform,
    )
    assert [c.args_as_dict()["role"] for c in run.calls] == ["code-reviewer", "tester"]
    assert "no agent with role code-reviewer is installed" in run.final_text
    assert "no agent with role tester is installed" in run.final_text


async def test_offline_team_delivers_a_feature_end_to_end(model: OfflineModel, drive: Any) -> None:
    """Every delegation is played by the offline model too: architect ->
    developer -> code-reviewer (changes requested, then approved) and tester."""
    tasks: dict[str, dict[str, Any]] = {}
    roles_run: list[str] = []

    async def platform_for(task_id: str) -> Any:
        async def answer(call: ToolCallPart) -> str:
            args = call.args_as_dict()
            if call.tool_name == "read_task":
                return json.dumps(tasks.get(args["task_id"], {"error": "no such task"}))
            sub_id = f"{task_id}/{call.tool_call_id[-6:]}"
            tasks[sub_id] = {
                "id": sub_id,
                "title": args["title"],
                "type": args["type"],
                "status": "in_progress",
                "description": args["description"],
                "result": None,
            }
            roles_run.append(args["role"])
            sub = await drive(
                model,
                role=args["role"],
                task_type=args["type"],
                title=args["title"],
                description=args["description"],
                on_tool=await platform_for(sub_id),
                parent_task_id=task_id,
                run_id=f"run-{sub_id}",
                task_id=sub_id,
            )
            tasks[sub_id].update(status="done", result=sub.final_text)
            return json.dumps(
                {"task_id": sub_id, "status": "done", "result": sub.final_text, "reason": ""}
            )

        return answer

    tasks["root"] = {
        "id": "root",
        "title": "Password reset",
        "type": "feature",
        "status": "in_progress",
        "description": BRIEF + "\n- TODO: email template",
        "result": None,
    }
    run = await drive(
        model,
        role="architect",
        task_type="feature",
        title="Password reset",
        description=tasks["root"]["description"],
        on_tool=await platform_for("root"),
        task_id="root",
    )
    assert roles_run == ["developer", "code-reviewer", "code-reviewer", "tester"]
    assert "CHANGES REQUESTED" in run.final_text
    assert "APPROVED" in run.final_text
    assert "Result: PASSED" in run.final_text


@pytest.mark.parametrize(
    ("description", "verdict"),
    [
        ("Adds the parser.\n- tests for empty input", "APPROVED"),
        ("Adds the parser.\n# TODO handle unicode", "CHANGES REQUESTED"),
        ("Adds the parser. fixme: leaks a file handle", "CHANGES REQUESTED"),
        ("Uses a quick HACK around the cache", "CHANGES REQUESTED"),
        ("A hacky retry loop", "CHANGES REQUESTED"),
        ("Two TODOs left in the exporter", "CHANGES REQUESTED"),
        ("Results from the hackathon demo", "APPROVED"),
    ],
)
async def test_reviewer_verdict_rule(
    model: OfflineModel, call_for: Any, description: str, verdict: str
) -> None:
    response = await model.request(call_for("code-reviewer", "review", description=description))
    body = text_of(response).removeprefix("[offline model] ")
    assert body.startswith(verdict), body
    if verdict == "CHANGES REQUESTED":
        assert "unfinished work" in body
        assert description.splitlines()[-1].strip() in body, "the reason quotes the line"


async def test_tester_reports_one_passing_case_per_requirement(
    model: OfflineModel, call_for: Any
) -> None:
    response = await model.request(call_for("tester", "test"))
    lines = text_of(response).splitlines()
    assert lines[-1] == "Result: PASSED (3/3)"
    assert sum(1 for line in lines if line.endswith("— PASSED")) == 3
    assert any("Rate limit reset requests" in line for line in lines)


async def test_orchestrator_delegates_parts_one_after_another(
    model: OfflineModel, drive: Any, delegation: Any
) -> None:
    async def platform(call: ToolCallPart) -> str:
        return delegation(result=f"[offline model] {call.args_as_dict()['role']} finished")

    run = await drive(
        model,
        role="orchestrator",
        task_type="coordination",
        title="Release the reporting module",
        description="Implement the reports, document them and deploy.",
        on_tool=platform,
    )
    assert all(len(tool_calls(r)) <= 1 for r in run.responses), "one delegation per step"
    roles = [c.args_as_dict()["role"] for c in run.calls]
    assert roles == ["developer", "devops", "documenter"]
    assert all(c.args_as_dict()["type"] in TASK_TYPES for c in run.calls)
    assert "3 of 3 parts completed" in run.final_text


async def test_project_manager_checks_the_board(model: OfflineModel, drive: Any) -> None:
    async def platform(call: ToolCallPart) -> str:
        return json.dumps(
            {
                "tasks": [
                    {"id": "a", "title": "x", "type": "docs", "status": "todo"},
                    {"id": "b", "title": "y", "type": "test", "status": "done"},
                ]
            }
        )

    run = await drive(
        model,
        role="project-manager",
        task_type="planning",
        title="Q3 plan",
        description=BRIEF,
        on_tool=platform,
    )
    assert [c.tool_name for c in run.calls] == ["list_tasks"]
    assert "2 tasks now (1 done, 1 todo)" in run.final_text


async def test_decision_maker_names_options_criteria_and_choice(
    model: OfflineModel, call_for: Any
) -> None:
    description = "Pick a queue.\n- Use NATS JetStream\n- Use a small pilot on Redis streams"
    body = text_of(
        await model.request(
            call_for("decision-maker", "decision", description=description, complexity="high")
        )
    )
    assert "A. Use NATS JetStream" in body
    assert "B. Use a small pilot" in body
    assert "Criteria (weight):" in body
    assert "Why:" in body
    assert "Decision: B" in body  # with high stakes the stepwise option wins


@pytest.mark.parametrize("tools_offered", [[], None])
async def test_no_tools_means_a_direct_answer(
    model: OfflineModel, call_for: Any, tools_offered: list[Any] | None
) -> None:
    for role in [*ROLES, "astrologer"]:
        kwargs: dict[str, Any] = {"tools": []} if tools_offered == [] else {}
        if tools_offered is None and role in (
            "architect",
            "developer",
            "orchestrator",
            "project-manager",
            "documenter",
        ):
            continue
        response = await model.request(call_for(role, ROLES.get(role, "research"), **kwargs))
        assert not tool_calls(response), role
        assert text_of(response).startswith("[offline model] ")


async def test_unknown_role_gets_a_generic_answer(model: OfflineModel, call_for: Any) -> None:
    body = text_of(await model.request(call_for("astrologer", "research")))
    assert "astrologer" in body
    assert "Rate limit reset requests per account" in body


async def test_tool_error_ends_the_run_with_an_explanation(model: OfflineModel, drive: Any) -> None:
    async def platform(call: ToolCallPart) -> str:
        return json.dumps({"error": "task p-404 not found"})

    run = await drive(
        model,
        role="developer",
        task_type="bugfix",
        title="Fix crash",
        description="Crash on empty input.",
        on_tool=platform,
        parent_task_id="p-404",
    )
    assert len(run.calls) == 1
    assert "task p-404 not found" in run.final_text
    assert "stopped" in run.final_text.lower()


async def test_failed_tool_outcome_is_an_error_too(model: OfflineModel, call_for: Any) -> None:
    call = call_for("developer", "bugfix", parent_task_id="p-1")
    first = await model.request(call)
    (read,) = tool_calls(first)
    call.messages += [
        first,
        ModelRequest(
            parts=[
                ToolReturnPart(
                    "read_task", "database is locked", read.tool_call_id, outcome="failed"
                )
            ]
        ),
    ]
    response = await model.request(call)
    assert not tool_calls(response)
    assert "database is locked" in text_of(response)


async def test_usage_counts_characters(model: OfflineModel, call_for: Any) -> None:
    call = call_for("tester", "test")
    response = await model.request(call)
    chars_in = len("You are the tester.") + len(BRIEF)
    assert response.usage.input_tokens == (chars_in + 3) // 4
    assert response.usage.output_tokens == (len(text_of(response)) + 3) // 4
    assert response.model_name == "swarmyard-offline-1"
    assert response.provider_name == "offline"


async def test_every_response_is_labelled(model: OfflineModel, drive: Any, delegation: Any) -> None:
    async def platform(call: ToolCallPart) -> str:
        return delegation(result="APPROVED")

    run = await drive(
        model,
        role="developer",
        task_type="implementation",
        title="Password reset",
        description=BRIEF,
        on_tool=platform,
    )
    assert len(run.responses) == 3  # review (approved), test, answer
    assert all(text_of(r).startswith("[offline model] ") for r in run.responses)


async def test_delay_is_applied_and_cancellable(call_for: Any) -> None:
    slow = OfflineModel(delay_ms=60_000)
    task = asyncio.create_task(slow.request(call_for()))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1.0

    started = time.monotonic()
    await OfflineModel(delay_ms=50).request(call_for())
    assert time.monotonic() - started >= 0.045


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="delay_ms"):
        OfflineModel(delay_ms=-1)


async def test_response_survives_a_checkpoint_round_trip(
    model: OfflineModel, call_for: Any
) -> None:
    response = await model.request(call_for())
    raw = ModelMessagesTypeAdapter.dump_json([response])
    (loaded,) = ModelMessagesTypeAdapter.validate_json(raw)
    assert loaded == response
