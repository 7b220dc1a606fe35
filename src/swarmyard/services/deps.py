"""What every service is given: the ports, time and ids (and the optional
memory embedder).

Services receive one `Deps` so wiring (embedded or cluster) happens in one
place, `runtime.wiring`, and tests build it from in-memory adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..domain import Clock, IdSource
from ..ports import Bus, Embedder, OutboxMessage, Store

__all__ = ["Deps", "NullSink", "OutboxSink"]


class OutboxSink(Protocol):
    """Takes outbox messages right after their transaction committed and
    publishes them (the relay). Rows left behind by a crash are swept later,
    so losing this hand-off loses nothing."""

    def submit(self, messages: Sequence[OutboxMessage]) -> None: ...


class NullSink:
    """Leaves everything to the relay's sweep (tests that publish nothing)."""

    def submit(self, messages: Sequence[OutboxMessage]) -> None:
        return None


@dataclass(slots=True)
class Deps:
    store: Store
    bus: Bus
    clock: Clock
    ids: IdSource
    outbox: OutboxSink = field(default_factory=NullSink)
    # Long-term memory is searched by similarity too when set (memory_index.py).
    embedder: Embedder | None = None
