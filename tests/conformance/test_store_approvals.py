"""Conformance of the approvals repository: memory, SQLite and PostgreSQL alike.

One request per tool call of a run (asked again, the first answers), the
first decision stands, overdue requests are found by deadline, and another
workspace sees none of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.domain import Approval, ApprovalStatus, IllegalTransition, NotFound, Workspace
from swarmyard.ports import Store, UnitOfWork

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", T0))
    return store


@asynccontextmanager
async def committed(store: Store) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work(A) as uow:
        yield uow
        await uow.commit()


def approval(approval_id: str, call_id: str, *, run_id: str = "r1", minutes: int = 0) -> Approval:
    return Approval(
        id=approval_id,
        workspace_id=A,
        run_id=run_id,
        task_id="t1",
        call_id=call_id,
        tool="http.fetch",
        rule="policy 'ws': untrusted_egress",
        reason="the run has read private data and untrusted content",
        requested_at=at(minutes),
        deadline=at(minutes) + timedelta(hours=1),
        args={"url": "https://example.org/", "headers": {"x": ["1", 2]}},
        role="developer",
    )


async def test_one_request_per_tool_call(st: Store) -> None:
    async with committed(st) as uow:
        first = await uow.approvals.add(approval("ap1", "call-1"))
        again = await uow.approvals.add(approval("ap2", "call-1"))
        assert again == first  # the resumed run finds its request
        await uow.approvals.add(approval("ap3", "call-2", minutes=5))
        await uow.approvals.add(approval("ap4", "call-1", run_id="r2", minutes=10))
    async with st.unit_of_work(A) as uow:
        assert await uow.approvals.get("ap1") == first
        assert await uow.approvals.for_call("r1", "call-1") == first
        assert await uow.approvals.for_call("r1", "call-9") is None
        assert [a.id for a in await uow.approvals.list()] == ["ap4", "ap3", "ap1"]
        assert [a.id for a in await uow.approvals.list(run_id="r1")] == ["ap3", "ap1"]
        assert [a.id for a in await uow.approvals.list(limit=1)] == ["ap4"]
        with pytest.raises(NotFound):
            await uow.approvals.get("ap2")
    async with st.unit_of_work(B) as uow:
        assert await uow.approvals.list() == []
        assert await uow.approvals.for_call("r1", "call-1") is None
        with pytest.raises(NotFound):
            await uow.approvals.get("ap1")


async def test_the_first_decision_stands(st: Store) -> None:
    async with committed(st) as uow:
        await uow.approvals.add(approval("ap1", "call-1"))
    async with st.unit_of_work(A) as uow:
        yes = await uow.approvals.get("ap1")
    async with st.unit_of_work(A) as uow:
        no = await uow.approvals.get("ap1")
    yes.decide(ApprovalStatus.APPROVED, by="user:ann", at=at(3), comment="fine")
    no.decide(ApprovalStatus.REJECTED, by="user:bob", at=at(4))
    async with committed(st) as uow:
        assert await uow.approvals.decide(yes)
    async with committed(st) as uow:
        assert not await uow.approvals.decide(no)
    async with st.unit_of_work(A) as uow:
        stored = await uow.approvals.get("ap1")
        assert (stored.status, stored.decided_by, stored.comment) == (
            ApprovalStatus.APPROVED,
            "user:ann",
            "fine",
        )
        assert stored.decided_at == at(3)
        assert [a.id for a in await uow.approvals.list(status=ApprovalStatus.APPROVED)] == ["ap1"]
        assert await uow.approvals.list(status=ApprovalStatus.PENDING) == []
    with pytest.raises(IllegalTransition):
        stored.decide(ApprovalStatus.REJECTED, by="user:bob", at=at(5))
    async with st.unit_of_work(B) as uow:
        with pytest.raises(NotFound):
            await uow.approvals.decide(yes)


async def test_overdue_requests_by_deadline(st: Store) -> None:
    async with committed(st) as uow:
        await uow.approvals.add(approval("late", "c1", minutes=0))
        await uow.approvals.add(approval("later", "c2", minutes=30))
        decided = await uow.approvals.add(approval("done", "c3", minutes=-30))
        decided.decide(ApprovalStatus.APPROVED, by="user:ann", at=T0)
        await uow.approvals.decide(decided)
    async with st.unit_of_work(A) as uow:
        assert await uow.approvals.overdue(at(59)) == []
        assert [a.id for a in await uow.approvals.overdue(at(60))] == ["late"]
        assert [a.id for a in await uow.approvals.overdue(at(200))] == ["late", "later"]
        assert [a.id for a in await uow.approvals.overdue(at(200), limit=1)] == ["late"]
    async with st.unit_of_work(B) as uow:
        assert await uow.approvals.overdue(at(200)) == []
