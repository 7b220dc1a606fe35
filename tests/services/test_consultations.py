"""Consultations end to end below the agent loop: the tools ask over a bus,
a responder serves the asked role, the service answers with one model call
through the router (ledger included) and records decisions as shared context.

The answer is the asking run's spending: booked to its run, role and
agent, and reported back with the reply.

Runs on the in-memory bus, and on NATS where the test machine has it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pydantic_ai.messages import ModelResponse, SystemPromptPart, TextPart, UserPromptPart
from pydantic_ai.usage import RequestUsage

from swarmyard.adapters.llm import OfflineModel
from swarmyard.adapters.tools import consult_tools
from swarmyard.domain import (
    MemoryKind,
    ModelSpec,
    ModelTier,
    PriceSpec,
    ProviderKind,
    ProviderSpec,
    Run,
    RunStatus,
    Task,
    Workspace,
    subjects,
)
from swarmyard.domain.consultation import ConsultReply
from swarmyard.ports import (
    Bus,
    BusMessage,
    MemoryQuery,
    ModelCall,
    Tool,
    ToolContext,
    ToolCost,
    ToolError,
)
from swarmyard.ports.spend import UsageFilter
from swarmyard.runtime.consult_responder import Responder
from swarmyard.runtime.prompts import consultation_messages
from swarmyard.services.budgets import BudgetService
from swarmyard.services.catalog import CatalogService
from swarmyard.services.consultations import ConsultationService
from swarmyard.services.registry import Registry
from swarmyard.services.runs import RunService
from swarmyard.testing.buses import BUS_ADAPTERS

ROLES = ("developer", "architect", "decision-maker")
TITLE = "Add a result cache"
OPTIONS = ["Cache in process memory", "Cache in Redis", "Defer the cache"]
# $1,000 per million tokens either way: an answer of 40 + 12 tokens costs 52,000 µUSD.
PRICED = ProviderSpec(
    name="cloud",
    kind=ProviderKind.OPENAI_COMPATIBLE,
    base_url="https://cloud.example/v1",
    models=[
        ModelSpec(
            name="big",
            tier=ModelTier.MID,
            max_output_tokens=4000,
            price=PriceSpec(input_per_mtok=1000.0, output_per_mtok=1000.0),
        )
    ],
)
ANSWER_COST = 52_000


@pytest.fixture(params=sorted(BUS_ADAPTERS))
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    async with BUS_ADAPTERS[request.param](request) as instance:
        yield instance


def answer(text: str) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart(text)], usage=RequestUsage(input_tokens=40, output_tokens=12)
    )


class Client:
    """A model client answering from `script(call)`; `gate`, when set, holds
    every answer, and `asked` is set when a call comes in."""

    provider = "test"
    model_name = "scripted"
    offline = False

    def __init__(self, script: Callable[[ModelCall], str]) -> None:
        self.script = script
        self.calls: list[ModelCall] = []
        self.gate: asyncio.Event | None = None
        self.asked = asyncio.Event()

    async def request(self, call: ModelCall) -> ModelResponse:
        self.calls.append(call)
        self.asked.set()
        if self.gate is not None:
            await self.gate.wait()
        return answer(self.script(call))


@dataclass
class Team:
    ws: str
    kit: Any
    service: ConsultationService
    responder: Responder
    tools: dict[str, Tool]
    ask: ToolContext
    replies: asyncio.Queue[bytes]  # every reply the responder sent, in order

    async def call(self, tool: str, **args: Any) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(await self.tools[tool].call(args, self.ask))
        return result

    async def decisions(self) -> list[Any]:
        async with self.kit.store.unit_of_work(self.ws) as uow:
            found: list[Any] = await uow.memory.search(
                MemoryQuery(kind=MemoryKind.DECISION), now=self.kit.clock.now()
            )
        return found


def user_text(call: ModelCall) -> str:
    return "\n".join(
        str(part.content)
        for message in call.messages
        for part in message.parts
        if isinstance(part, UserPromptPart)
    )


def system_text(call: ModelCall) -> str:
    return "\n".join(
        part.content
        for message in call.messages
        for part in message.parts
        if isinstance(part, SystemPromptPart)
    )


MakeTeam = Callable[..., Awaitable[Team]]


@pytest.fixture
async def make_team(make_router: Any, bus: Bus) -> AsyncIterator[MakeTeam]:
    """A workspace with agents of `roles` installed, a developer's run
    asking, and a responder answering for the `served` roles."""
    responders: list[Responder] = []

    async def make(
        client: Any,
        roles: tuple[str, ...] = ROLES,
        served: tuple[str, ...] = ROLES,
        providers: tuple[ProviderSpec, ...] = (),
    ) -> Team:
        kit = await make_router(list(providers))
        ws = f"w{uuid.uuid4().hex[:12]}"  # the NATS server may be shared with other tests
        await kit.store.add_workspace(Workspace(ws, "Consulting", kit.clock.now()))
        kit.factory.client = lambda provider, model, api_key=None: client
        catalog = CatalogService(kit.deps)
        registry = Registry(kit.deps, catalog)
        for role in roles:
            await registry.install(ws, role)
        now = kit.clock.now()
        task = Task(id="task_ask", workspace_id=ws, title=TITLE, type="feature", created_at=now)
        run = Run(
            id="run_ask",
            workspace_id=ws,
            task_id=task.id,
            agent_id="agent_dev",
            role="developer",
            created_at=now,
        )
        run.move(RunStatus.RUNNING, now=now)  # asking: a stopped run's questions are refused
        async with kit.store.unit_of_work(ws) as uow:
            await uow.tasks.add(task)
            await uow.runs.add(run)
            await uow.commit()
        service = ConsultationService(kit.deps, catalog, kit.router, consultation_messages)
        replies: asyncio.Queue[bytes] = asyncio.Queue()

        async def handle(message: BusMessage) -> bytes:
            reply = await service.handle(message)
            replies.put_nowait(reply)
            return reply

        responder = Responder(bus, handle, per_role=2)
        responders.append(responder)
        for role in served:
            await responder.serve(role)
        tools = consult_tools(bus, service.known_roles)
        ask = ToolContext(ws, run.id, task.id, "developer")
        return Team(ws, kit, service, responder, tools, ask, replies)

    try:
        yield make
    finally:
        for responder in responders:
            await responder.close()


# --------------------------------------------------------------------------- help


async def test_help_is_one_model_call_as_the_asked_role(make_team: MakeTeam) -> None:
    client = Client(lambda call: "Put it behind the repository port.")
    team = await make_team(client)
    result = await team.call(
        "agent.request_help", role="architect", question="Where does the cache live?"
    )
    assert result["role"] == "architect"
    assert result["answer"] == "Put it behind the repository port."
    assert result["agent"].startswith("architect")
    (call,) = client.calls
    assert (call.role, call.run_id, call.task_id, call.consultation) == (
        "architect",
        "run_ask",
        "task_ask",
        "help",
    )
    assert call.tools == []
    assert "You are the Architect" in system_text(call)
    asked = user_text(call)
    assert "The developer role asks you for help" in asked
    assert f"“{TITLE}”" in asked
    assert "Where does the cache live?" in asked
    # Routed as the architect, paid by the asking run: its role and agent.
    assert (call.agent_id, call.booked_role) == ("agent_dev", "developer")
    async with team.kit.store.unit_of_work(team.ws) as uow:
        (entry,) = await uow.ledger.list(UsageFilter())
    assert (entry.role, entry.agent_id, entry.run_id, entry.task_id, entry.ok) == (
        "developer",
        "agent_dev",
        "run_ask",
        "task_ask",
        True,
    )
    assert entry.reason.startswith("the architect answering the developer: ")


async def test_the_answer_is_the_asking_runs_spending(make_team: MakeTeam) -> None:
    team = await make_team(Client(lambda call: "Behind the port."), providers=(PRICED,))
    budgets = BudgetService(team.kit.deps)
    for role in ("developer", "architect"):
        await budgets.put(team.ws, scope="role", scope_id=role, monthly_cents=1000)
    spent: list[ToolCost] = []
    ask = dataclasses.replace(team.ask, add_cost=spent.append)
    await team.tools["agent.request_help"].call({"role": "architect", "question": "Where?"}, ask)
    # The reply says what the ledger holds against the run, for the run to add.
    assert spent == [ToolCost(ANSWER_COST, 40, 12)]
    async with team.kit.store.unit_of_work(team.ws) as uow:
        (entry,) = await uow.ledger.list(UsageFilter(run_id="run_ask"))
    assert (entry.cost_microusd, entry.role) == (ANSWER_COST, "developer")
    # The asking role's budget pays, not the answering role's.
    windows = {b.budget.scope_id: b.windows[0] for b in await budgets.list(team.ws)}
    assert windows["developer"].spent_microusd == ANSWER_COST
    assert windows["architect"].spent_microusd == 0


async def test_a_paid_answer_refused_afterwards_still_reports_its_cost(
    make_team: MakeTeam,
) -> None:
    team = await make_team(Client(lambda call: "   "), providers=(PRICED,))
    spent: list[ToolCost] = []
    ask = dataclasses.replace(team.ask, add_cost=spent.append)
    with pytest.raises(ToolError, match="the architect gave an empty answer"):
        await team.tools["agent.request_help"].call(
            {"role": "architect", "question": "Where?"}, ask
        )
    assert spent == [ToolCost(ANSWER_COST, 40, 12)]


async def test_a_stopped_run_is_answered_by_nobody(make_team: MakeTeam) -> None:
    client = Client(lambda call: "unused")
    team = await make_team(client)
    await RunService(team.kit.deps).stop(team.ws, "run_ask")
    with pytest.raises(ToolError, match="run run_ask is no longer waiting"):
        await team.call("agent.request_help", role="architect", question="Still there?")
    assert client.calls == []


async def test_a_role_without_an_active_agent_is_refused_by_name(make_team: MakeTeam) -> None:
    client = Client(lambda call: "unused")
    team = await make_team(client, roles=("developer",))
    with pytest.raises(ToolError, match="no active architect agent is installed"):
        await team.call("agent.request_help", role="architect", question="Which layer?")
    assert client.calls == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"role": "developer", "question": "Anyone?"}, "you are the developer"),
        ({"role": "wizard", "question": "Anyone?"}, "unknown role 'wizard'"),
        ({"role": "architect", "question": "  "}, "the question must not be empty"),
        ({"role": "architect"}, "the question must not be empty"),
        ({"question": "Anyone?"}, "needs the role to ask"),
        ({"role": "architect", "question": "Q?", "deadline_seconds": 301}, "deadline_seconds"),
        ({"role": "architect", "question": "Q?", "deadline_seconds": "soon"}, "deadline_seconds"),
        ({"role": "architect", "question": "Q?", "urgent": True}, "unknown argument"),
    ],
)
async def test_bad_help_arguments_are_refused_before_asking(
    make_team: MakeTeam, args: dict[str, Any], problem: str
) -> None:
    client = Client(lambda call: "unused")
    team = await make_team(client)
    with pytest.raises(ToolError, match=problem):
        await team.tools["agent.request_help"].call(args, team.ask)
    assert client.calls == []


async def test_a_role_nobody_serves_is_a_deadline_error(make_team: MakeTeam) -> None:
    team = await make_team(Client(lambda call: "unused"), served=("developer",))
    with pytest.raises(ToolError, match="no architect answered within 1 s"):
        await team.call(
            "agent.request_help", role="architect", question="Anyone?", deadline_seconds=1
        )


async def test_an_answer_later_than_the_deadline_is_a_deadline_error(
    make_team: MakeTeam,
) -> None:
    client = Client(lambda call: "too late")
    client.gate = asyncio.Event()  # the architect thinks for ever
    team = await make_team(client)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ToolError, match="no architect answered within 1 s"):
        await team.call(
            "agent.request_help", role="architect", question="Anyone?", deadline_seconds=1
        )
    assert 1.0 <= loop.time() - started < 5.0
    client.gate.set()


async def test_a_malformed_request_gets_an_error_reply(make_team: MakeTeam, bus: Bus) -> None:
    team = await make_team(Client(lambda call: "unused"))
    subject = subjects.agent_help(team.ws, "architect")
    for body in (b"{not json", b'{"v": 1, "kind": "help"}', b'{"v": 2}'):
        reply = ConsultReply.from_bytes((await bus.request(subject, body, timeout=5)).data)
        assert not reply.ok
        assert reply.error.startswith("malformed consultation")
    # The responder is still there for the next, well-formed question.
    result = await team.call("agent.request_help", role="architect", question="Still there?")
    assert result["answer"] == "unused"


async def test_the_offline_model_answers_a_question_in_role(make_team: MakeTeam) -> None:
    team = await make_team(OfflineModel())
    result = await team.call(
        "agent.request_help", role="architect", question="Where should the cache live?"
    )
    text = result["answer"]
    assert text.startswith("[offline model] Answer from the architect role to the developer role")
    assert "Where should the cache live?" in text
    assert "narrow interface" in text


# --------------------------------------------------------------------------- decisions


async def test_a_decision_is_recorded_as_shared_context(make_team: MakeTeam) -> None:
    client = Client(lambda call: "Choice: 2\n\nRedis survives restarts and is shared.")
    team = await make_team(client)
    result = await team.call(
        "agent.request_decision",
        question="Where should the cache live?",
        options=OPTIONS,
        context="Three API replicas.",
    )
    assert result["decided"] is True
    assert (result["choice"], result["option"]) == (2, "Cache in Redis")
    assert result["rationale"] == "Redis survives restarts and is shared."
    (call,) = client.calls
    assert (call.role, call.consultation) == ("decision-maker", "decision")
    assert "2. Cache in Redis" in user_text(call)
    assert "Three API replicas." in user_text(call)
    (item,) = await team.decisions()
    assert item.id == result["decision_id"]
    assert item.agent_id is None  # shared with the whole workspace
    assert (item.run_id, item.task_id) == ("run_ask", "task_ask")
    assert item.source == "role:decision-maker"
    assert item.text.startswith("Decision: Cache in Redis")
    assert "1. Cache in process memory; 2. Cache in Redis; 3. Defer the cache" in item.text
    assert "Redis survives restarts" in item.text
    assert "for the developer role, run run_ask, task task_ask" in item.text
    assert item.expires_at == item.created_at + timedelta(days=30)


async def test_an_answer_naming_no_option_is_no_decision(make_team: MakeTeam) -> None:
    team = await make_team(Client(lambda call: "It depends on the traffic."))
    result = await team.call("agent.request_decision", question="Where?", options=OPTIONS)
    assert result["decided"] is False
    assert "named none of the options" in result["reason"]
    assert result["answer"] == "It depends on the traffic."
    assert await team.decisions() == []


async def test_the_offline_decision_maker_picks_an_option(make_team: MakeTeam) -> None:
    team = await make_team(OfflineModel())
    result = await team.call("agent.request_decision", question="Where?", options=OPTIONS)
    assert result["decided"] is True
    assert result["option"] in OPTIONS
    (item,) = await team.decisions()
    assert item.text.startswith(f"Decision: {result['option']}")


async def test_without_a_decision_maker_the_refusal_names_it(make_team: MakeTeam) -> None:
    team = await make_team(Client(lambda call: "unused"), roles=("developer",))
    with pytest.raises(ToolError, match="no active decision-maker agent"):
        await team.call("agent.request_decision", question="Where?", options=OPTIONS)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"question": "Where?", "options": ["Only one"]}, "2 to 10 choices, not 1"),
        ({"question": "Where?", "options": "a or b"}, "options must be a list"),
        ({"question": "Where?", "options": ["A", "a"]}, "option 2 repeats"),
        ({"question": "", "options": OPTIONS}, "the question must not be empty"),
        ({"question": "Where?", "options": OPTIONS, "context": 3}, "context must be a string"),
        ({"question": "Where?", "options": OPTIONS, "deadline_seconds": 0}, "deadline_seconds"),
    ],
)
async def test_bad_decision_arguments_are_refused_before_asking(
    make_team: MakeTeam, args: dict[str, Any], problem: str
) -> None:
    client = Client(lambda call: "unused")
    team = await make_team(client)
    with pytest.raises(ToolError, match=problem):
        await team.tools["agent.request_decision"].call(args, team.ask)
    assert client.calls == []


async def test_the_decision_maker_cannot_ask_itself(make_team: MakeTeam) -> None:
    team = await make_team(Client(lambda call: "unused"))
    itself = ToolContext(team.ws, "run_ask", "task_ask", "decision-maker")
    with pytest.raises(ToolError, match="make this decision yourself"):
        await team.tools["agent.request_decision"].call(
            {"question": "Where?", "options": OPTIONS}, itself
        )


async def test_a_decision_for_a_run_stopped_meanwhile_is_not_recorded(
    make_team: MakeTeam,
) -> None:
    client = Client(lambda call: "Choice: 1")
    client.gate = asyncio.Event()
    team = await make_team(client)
    asking = asyncio.create_task(
        team.call("agent.request_decision", question="Where?", options=OPTIONS)
    )
    await asyncio.wait_for(client.asked.wait(), 10)  # the decision-maker is thinking
    await RunService(team.kit.deps).stop(team.ws, "run_ask")
    client.gate.set()
    with pytest.raises(ToolError, match="run run_ask stopped waiting; nothing was recorded"):
        await asyncio.wait_for(asking, 10)
    assert await team.decisions() == []


async def test_a_decision_past_its_deadline_is_not_recorded(make_team: MakeTeam) -> None:
    client = Client(lambda call: "Choice: 1")
    client.gate = asyncio.Event()
    team = await make_team(client)
    with pytest.raises(ToolError, match="no decision-maker answered within 1 s"):
        await team.call(
            "agent.request_decision", question="Where?", options=OPTIONS, deadline_seconds=1
        )
    # The answering side gives up at its own deadline: no decision is made late.
    reply = ConsultReply.from_bytes(await asyncio.wait_for(team.replies.get(), 10))
    assert reply.error == "the decision-maker did not answer within 1 s"
    assert await team.decisions() == []
