"""Leader leases in a JetStream key-value bucket: cluster mode's implementation.

Scheduler processes on different hosts share nothing but the NATS server,
so leadership lives there, in the bucket ``SWARMYARD_LEADERS`` (the bus's
``<namespace>_LEADERS``; one key per lease name, history 1, file storage).
The value says who holds the lease and until when. Every change is a
compare-and-set on the key's revision — `create` when the key is new,
`update(last=revision)` otherwise — so of several processes that read the
same record and try to take it, exactly one succeeds; the others read
again and see the winner.

nats-server 2.9 has no per-key TTL, so expiry is in the value: a lapsed
lease is one whose expiry time has passed, and taking it over is the same
compare-and-set, so two processes cannot both take over one lapsed lease.
Expiry times are wall-clock (`time.time`) because they are compared across
hosts: keep the hosts' clocks in sync (NTP) and the ttl well above their
skew. Releasing writes an empty owner, keeping the revision chain intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable

from nats.js.errors import (
    APIError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    ServiceUnavailableError,
)
from nats.js.kv import KeyValue

from swarmyard.adapters.bus._jetstream import CREATE_RACE
from swarmyard.adapters.bus.nats import NatsBus, shown_url

from ._holding import Holding, check_claim

__all__ = ["NatsLeaderLease"]

_log = logging.getLogger(__name__)

_KEY = re.compile(r"^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$")  # what a KV key may be
# A lost compare-and-set means someone else wrote; reading again almost always
# settles it (they hold it now). The bound only stops a pathological spin.
_ATTEMPTS = 5


def _encode(holding: Holding) -> bytes:
    return json.dumps({"owner": holding.owner, "expires": holding.expires}).encode()


def _decode(name: str, value: bytes | None) -> Holding:
    try:
        record = json.loads(value or b"")
        return Holding(str(record["owner"] or ""), float(record["expires"]))
    except (ValueError, KeyError, TypeError):
        _log.warning("lease %r holds an unreadable value; treating it as lapsed", name)
        return Holding("", 0.0)


class NatsLeaderLease:
    """The LeaderLease port on the NATS bus's JetStream; `clock` is wall-clock seconds."""

    def __init__(
        self,
        bus: NatsBus,
        *,
        bucket: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self.bucket = bucket or f"{bus.namespace}_LEADERS"
        self._clock = clock
        self._lock = asyncio.Lock()
        self._bucket: KeyValue | None = None

    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew the lease `name` for `ttl` seconds; False while another
        owner's lease runs. Atomic across processes."""
        check_claim(owner, ttl)
        kv = await self._kv(name)
        for _ in range(_ATTEMPTS):
            revision, held = await self._read(kv, name)
            now = self._clock()
            if held.blocks(owner, now):
                return False
            value = _encode(Holding(owner, now + ttl))
            try:
                if revision is None:
                    await kv.create(name, value)
                else:
                    await kv.update(name, value, last=revision)
            except KeyWrongLastSequenceError:
                continue  # another process wrote in between: look again
            return True
        return False

    async def release(self, name: str, owner: str) -> None:
        """Give the lease up now, if `owner` holds it (or held it last)."""
        kv = await self._kv(name)
        revision, held = await self._read(kv, name)
        if revision is None or held.owner != owner:
            return
        # A lost compare-and-set: taken over since we read it, not ours to release.
        with contextlib.suppress(KeyWrongLastSequenceError):
            await kv.update(name, _encode(Holding("", 0.0)), last=revision)

    async def holder(self, name: str) -> str | None:
        kv = await self._kv(name)
        _, held = await self._read(kv, name)
        return held.owner if held.runs(self._clock()) else None

    async def _read(self, kv: KeyValue, name: str) -> tuple[int | None, Holding]:
        """The key's revision (None: no such key) and what it says."""
        try:
            entry = await kv.get(name)
        except KeyNotFoundError:
            return None, Holding("", 0.0)
        return entry.revision, _decode(name, entry.value)

    async def _kv(self, name: str) -> KeyValue:
        if not _KEY.match(name):
            raise ValueError(
                f"lease name {name!r}: use letters, digits and -/_= separated by single dots"
            )
        if self._bucket is not None:
            return self._bucket
        async with self._lock:
            if self._bucket is None:
                try:
                    self._bucket = await self._open_bucket()
                except ServiceUnavailableError:
                    where = shown_url(self._bus.url)
                    raise RuntimeError(
                        f"JetStream is not enabled on the NATS server at {where}: start "
                        "nats-server with -js (leader leases need its key-value store)"
                    ) from None
            return self._bucket

    async def _open_bucket(self) -> KeyValue:
        js = await self._bus.jetstream()
        try:
            return await js.key_value(self.bucket)
        except BucketNotFoundError:
            pass
        try:
            return await js.create_key_value(
                bucket=self.bucket, history=1, description="Swarmyard leader leases"
            )
        except APIError as exc:
            # Creating a bucket that exists with the same settings is a no-op,
            # but while another process's create is still being applied the
            # server answers "name in use" or "subjects overlap" instead: that
            # process was first, so open what it made.
            if exc.err_code not in CREATE_RACE:
                raise
        return await js.key_value(self.bucket)
