"""Bus adapters: the in-process bus (embedded mode) and NATS JetStream (cluster mode).

`create_bus` picks the adapter from ``SWARMYARD_BUS_URL``, so the process
wiring never names an adapter class. Each adapter lives in its own module
(``memory.py``, ``nats.py``; nats-py is imported only when a NATS URL is
chosen) and passes the one conformance suite in ``tests/conformance/test_bus.py``.
"""

from __future__ import annotations

from swarmyard.ports import Bus

from .memory import MemoryBus

__all__ = [
    "MemoryBus",
    "create_bus",
]

_MEMORY_URLS = frozenset({"", "memory", "memory://"})


def create_bus(url: str) -> Bus:
    """The bus for ``SWARMYARD_BUS_URL``: empty or ``memory`` for the in-process
    bus, ``nats://host:port`` (comma-separated for a cluster) for NATS. Nothing
    connects yet: the NATS bus connects on first use."""
    if url in _MEMORY_URLS:
        return MemoryBus()
    scheme, separator, _ = url.partition("://")
    if separator and scheme == "nats":
        from .nats import NatsBus  # noqa: PLC0415 (nats-py loads for NATS deployments only)

        return NatsBus(url)
    shown = scheme if separator else url
    raise ValueError(
        f"unsupported bus URL scheme {shown!r} in SWARMYARD_BUS_URL: use 'memory' "
        "(the in-process bus, the default) or 'nats://host:port' (cluster mode)"
    )
