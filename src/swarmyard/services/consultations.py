"""Consultations, the answering side: an agent of one role answers another
run's question, or the decision-maker chooses among its options.

A worker process serves the consultation subjects of the roles it serves
(`runtime.consult_responder`); each request it takes comes here. The
answer is ONE model call as the asked role: its manifest's system prompt,
the question, the asking role and the title of the task it came from; no
tools. The call goes through the router, so budgets and the ledger see it,
and it is the asking run's spending: routed as the answering role (its
rules and models) but booked to the asking run, task, role and agent
(`ModelCall.booked_role`), so the run's ledger rows, its budgets and its
own totals agree. The reply carries the cost; the asking side adds it to
the run, whose cost limit then counts it.

A question from a run that has stopped is refused before any model call;
a decision is re-checked before it is recorded, so a run stopped while
waiting leaves no decision behind (its question's cost, once paid, stays
in the ledger).

A decision is recorded as shared context (a memory item of kind decision,
with the asking run and task as provenance), so `/memory`, `memory.search`
and the task graph show it. A decision whose deadline passed before it was
made is neither recorded nor answered: the asker has stopped waiting.

Delivery: request/reply is at most once, and the asking tool journals the
answer (the agent loop does, for side effects), so a resumed run does not
ask again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from ..domain import Agent, AgentStatus, NotFound, Run, RunStatus, ValidationFailed, subjects
from ..domain.consultation import (
    DECISION_ROLE,
    ConsultKind,
    ConsultReply,
    ConsultRequest,
    MalformedConsultation,
    consult_prompt,
    read_choice,
)
from ..domain.memory import MAX_MEMORY_TEXT, new_memory
from ..ports import BusMessage, ModelCall
from .catalog import CatalogService
from .deps import Deps
from .memory_index import MemoryIndex
from .router import ModelRouter, Routed, RoutingFailed

__all__ = ["DECISION_TTL_DAYS", "ConsultationService", "Prompter"]

log = structlog.get_logger("swarmyard.consultations")

# (system prompt, user message) -> the model messages of a one-turn call;
# the runtime builds them (pydantic-ai's message types stay out of services).
Prompter = Callable[[str, str], list[Any]]

DECISION_TTL_DAYS = 30  # like context.share: shared context goes stale
MAX_ANSWER_TOKENS = 2000  # a consultation is a short answer, and reserves little
_PART_CHARS = 1200  # of the question and rationale in a recorded decision


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _gone(run: Run) -> bool:
    """Whether the asking run has stopped waiting (finished, or told to stop)."""
    return run.status is not RunStatus.RUNNING or run.stop_requested


def _failed(request: ConsultRequest) -> ConsultReply:
    """The refusal for an answer that raised (logged; called in its `except`)."""
    log.exception("consultation failed", role=request.role, run_id=request.run_id)
    return ConsultReply.refusal(request.role, f"the {request.role} could not answer")


def _pick_agent(agents: Sequence[Agent]) -> Agent | None:
    """The agent to answer as: active ones only; healthy and least loaded first."""
    active = [a for a in agents if a.status is AgentStatus.ACTIVE]
    if not active:
        return None
    return min(active, key=lambda a: (not a.takes_work, a.load, a.id))


class ConsultationService:
    def __init__(
        self, deps: Deps, catalog: CatalogService, router: ModelRouter, prompter: Prompter
    ) -> None:
        self._d = deps
        self._catalog = catalog
        self._router = router
        self._prompter = prompter

    async def known_roles(self, workspace_id: str) -> set[str]:
        """The roles a run of the workspace may consult: the catalogue's and
        those of installed agents (an agent keeps its manifest version's role)."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            roles = await self._catalog.known_roles(uow)
            roles |= {a.role for a in await uow.agents.list()}
        return roles

    async def handle(self, message: BusMessage) -> bytes:
        """A bus request in, a reply out; never raises (a raising handler
        would leave the asker waiting for its whole deadline)."""
        try:
            request = ConsultRequest.from_bytes(message.data)
        except MalformedConsultation as exc:
            return ConsultReply.refusal("", f"malformed consultation: {exc}").to_bytes()
        if subjects.workspace_of(message.subject) != request.workspace_id:
            # Tenancy holds on the bus too: a workspace's subject answers for it alone.
            return ConsultReply.refusal(
                request.role, "the consultation names another workspace than its subject"
            ).to_bytes()
        try:
            async with asyncio.timeout(request.deadline_seconds):
                reply = await self.answer(request)
        except TimeoutError:
            reply = ConsultReply.refusal(
                request.role,
                f"the {request.role} did not answer within {request.deadline_seconds:g} s",
            )
        except Exception:
            reply = _failed(request)
        return reply.to_bytes()

    async def answer(self, request: ConsultRequest) -> ConsultReply:
        """The asked role's answer, or a refusal saying why there is none."""
        ws, role = request.workspace_id, request.role
        async with self._d.store.unit_of_work(ws) as uow:
            try:
                task = await uow.tasks.get(request.task_id)
                run = await uow.runs.get(request.run_id)
            except NotFound as exc:
                return ConsultReply.refusal(role, exc.message)
            if run.task_id != task.id:
                return ConsultReply.refusal(role, f"run {run.id} is not a run of task {task.id}")
            if _gone(run):
                # Nobody waits for the answer: paying for it would only add to a closed run.
                return ConsultReply.refusal(role, f"run {run.id} is no longer waiting")
            agent = _pick_agent(await uow.agents.list(role=role))
            if agent is None:
                return ConsultReply.refusal(
                    role, f"no active {role} agent is installed in this workspace"
                )
            manifest = await self._catalog.get(uow, agent.manifest_id, agent.manifest_version)
        note, user = consult_prompt(request, task.title)
        system = f"{manifest.system_prompt.strip()}\n\n{note}"
        call = ModelCall(
            messages=self._prompter(system, user),
            tools=[],
            max_tokens=MAX_ANSWER_TOKENS,
            role=role,
            run_id=run.id,
            task_id=task.id,
            task_type=task.type,
            task_title=task.title,
            task_description=task.description,
            complexity=task.complexity.value,
            parent_task_id=task.parent_id,
            consultation=request.kind.value,
            workspace_id=ws,
            agent_id=run.agent_id,
            booked_role=run.role,
            project_id=task.project_id,
            model_tier=manifest.model.tier.value,
            preferred_models=list(manifest.model.preferred),
        )
        try:
            routed = await self._router.complete(call)
        except RoutingFailed as exc:
            return ConsultReply.refusal(role, f"the {role} could not answer: {exc.message}")
        try:
            reply = await self._reply(request, agent, routed)
        except Exception:
            # Caught here, not in `handle`, so the refusal still carries the cost.
            reply = _failed(request)
        # Paid whatever the answer turned out to be: the asking run adds it to its totals.
        return dataclasses.replace(
            reply,
            cost_microusd=routed.cost_microusd,
            tokens_in=routed.tokens_in,
            tokens_out=routed.tokens_out,
        )

    async def _reply(self, request: ConsultRequest, agent: Agent, routed: Routed) -> ConsultReply:
        role = request.role
        text = str(getattr(routed.response, "text", "") or "").strip()
        if not text:
            return ConsultReply.refusal(role, f"the {role} gave an empty answer")
        reply = ConsultReply(
            ok=True, role=role, answer=text, agent=agent.name, model=routed.candidate.ref
        )
        if request.kind is ConsultKind.DECISION:
            return await self._decided(request, reply)
        return reply

    async def _still_waiting(self, request: ConsultRequest) -> bool:
        async with self._d.store.unit_of_work(request.workspace_id) as uow:
            try:
                return not _gone(await uow.runs.get(request.run_id))
            except NotFound:
                return False

    async def _decided(self, request: ConsultRequest, reply: ConsultReply) -> ConsultReply:
        choice = read_choice(reply.answer, request.options)
        if choice is None:
            return reply  # no choice: answered as it is, nothing recorded
        if not await self._still_waiting(request):
            # Stopped while the decision-maker thought: as for a passed
            # deadline, a decision nobody waits for is not recorded.
            return ConsultReply.refusal(
                request.role, f"run {request.run_id} stopped waiting; nothing was recorded"
            )
        option = request.options[choice.index]
        number = choice.index + 1
        listed = "; ".join(f"{i}. {o}" for i, o in enumerate(request.options, start=1))
        text = "\n".join(
            [
                f"Decision: {option}",
                f"Question: {_clip(request.question, _PART_CHARS)}",
                f"Options: {listed}",
                f"Chosen: option {number}",
                f"Rationale: {_clip(choice.rationale, _PART_CHARS)}",
                f"Decided by the {DECISION_ROLE} ({reply.agent}) for the {request.asking_role} "
                f"role, run {request.run_id}, task {request.task_id}.",
            ]
        )
        now = self._d.clock.now()
        try:
            item = new_memory(
                item_id=self._d.ids.new("mem"),
                workspace_id=request.workspace_id,
                now=now,
                text=_clip(text, MAX_MEMORY_TEXT),
                kind="decision",
                tags=["decision", f"asked-by:{request.asking_role}"[:40]],
                ttl_days=DECISION_TTL_DAYS,
                run_id=request.run_id,
                task_id=request.task_id,
                source=f"role:{DECISION_ROLE}",
            )
        except ValidationFailed as exc:  # pragma: no cover - the parts are clipped to fit
            return ConsultReply.refusal(request.role, exc.message)
        # As every saved memory item: with a vector when embeddings are on.
        await MemoryIndex(self._d).keep(request.workspace_id, item)
        return ConsultReply(
            ok=True,
            role=reply.role,
            answer=reply.answer,
            agent=reply.agent,
            model=reply.model,
            choice=number,
            option=option,
            rationale=choice.rationale,
            decision_id=item.id,
        )
