"""Answering consultations in a worker process.

A worker answers the questions put to the roles it serves: for each role
it serves ``swarmyard.*.agent.help.<role>`` (every workspace; the request
names its own), and a worker serving the decision-maker also serves
``swarmyard.*.agent.decision``. Servers of one subject form a queue group
across processes, so each question reaches one worker of that role; a
question for a role no process serves gets no answer and the asker's
deadline ends it.

A bus server answers one request at a time, and each answer is a model
call, so every role gets a few servers: that many questions to one role
are answered at once per process. Answering takes no run slot: a run
waiting for an answer never waits for a slot the answer would need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..domain import subjects
from ..domain.consultation import DECISION_ROLE
from ..ports import Bus, BusMessage, Subscription

__all__ = ["SERVERS_PER_ROLE", "Responder"]

SERVERS_PER_ROLE = 4

Handler = Callable[[BusMessage], Awaitable[bytes]]


def subjects_of(role: str) -> list[str]:
    """The consultation subjects a worker of `role` serves, in every workspace."""
    served = [subjects.agent_help("*", role)]
    if role == DECISION_ROLE:
        served.append(subjects.agent_decision("*"))
    return served


class Responder:
    def __init__(self, bus: Bus, handler: Handler, *, per_role: int = SERVERS_PER_ROLE) -> None:
        if per_role < 1:
            raise ValueError(f"per_role must be >= 1, not {per_role}")
        self._bus = bus
        self._handler = handler
        self._per_role = per_role
        self._served: dict[str, list[Subscription]] = {}

    @property
    def roles(self) -> list[str]:
        """The roles whose questions this process answers now."""
        return sorted(self._served)

    async def serve(self, role: str) -> None:
        """Answer `role`'s questions from now on (again: nothing changes)."""
        if role in self._served:
            return
        servers = self._served[role] = []
        for subject in subjects_of(role):
            for _ in range(self._per_role):
                servers.append(await self._bus.serve(subject, self._handler))

    async def stop(self, role: str) -> None:
        for server in self._served.pop(role, []):
            await server.unsubscribe()

    async def close(self) -> None:
        for role in list(self._served):
            await self.stop(role)
