"""Leader-lease adapters: in-process (embedded mode) and a JetStream KV bucket (cluster mode).

Leadership lives on the bus, not in the database: a process that can reach
the bus for work can reach it for leadership too, and neither SQLite nor
PostgreSQL has to offer advisory locks. `create_leader_lease` picks the
adapter that matches the bus, so the process wiring never names one. Each
passes the one conformance suite in ``tests/conformance/test_leader_lease.py``.
"""

from __future__ import annotations

import sys
import weakref

from swarmyard.ports import Bus, LeaderLease

from .memory import MemoryLeaderLease

__all__ = ["MemoryLeaderLease", "create_leader_lease"]

# One in-process lease per in-process bus: whatever shares a bus shares its
# leases, as processes sharing a NATS server do.
_memory_leases: weakref.WeakKeyDictionary[Bus, MemoryLeaderLease] = weakref.WeakKeyDictionary()


def create_leader_lease(bus: Bus) -> LeaderLease:
    """Leases kept in the NATS server's JetStream for a NATS bus, in this
    process for any other bus."""
    # A NatsBus can only exist once its module is loaded; checking first keeps
    # nats-py out of processes that do not use it.
    if "swarmyard.adapters.bus.nats" in sys.modules:
        from swarmyard.adapters.bus.nats import NatsBus  # noqa: PLC0415

        if isinstance(bus, NatsBus):
            from .nats_kv import NatsLeaderLease  # noqa: PLC0415 (imports nats-py)

            return NatsLeaderLease(bus)
    lease = _memory_leases.get(bus)
    if lease is None:
        lease = _memory_leases[bus] = MemoryLeaderLease()
    return lease
