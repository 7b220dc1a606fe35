"""The durable work queue of the NATS bus, on JetStream (nats-server 2.9 and later).

Delivery promise, as on the in-process bus: at least once. A message stays
until a consumer acks or terms it, or it is dead-lettered; one not acked
within `ack_wait` comes back; handlers must be idempotent.

The layout on the server:

- **One stream** (``SWARMYARD_WORK`` by default: ``<namespace>_WORK``) with WorkQueue retention
  (a message is deleted once acked or termed), file storage, no age or size
  limit (work must not vanish), and a deduplication window (120 s) for the
  ``Nats-Msg-Id`` header that `enqueue` sets to `msg_id`: a repeat within
  the window is answered ``duplicate`` and `enqueue` returns False.
- **Its own subject space**: a message enqueued on subject S is stored
  under ``<stream>.S`` (``SWARMYARD_WORK.swarmyard.w1.tasks.ready.developer``).
  Core subscribers of ``swarmyard.w1.>`` therefore never see work items (as
  on the in-process bus), a plain publish can never enqueue work by
  accident, and any subject the port accepts can be enqueued.
- **One durable pull consumer per pattern** of a durable, with explicit
  acks, ``ack_wait``, and ``filter_subject`` = the pattern in that subject
  space. nats-server 2.9 allows one filter subject per consumer, so a
  durable of several patterns is several consumers: the first is named
  like the durable, the others ``<durable>~1``, ``~2``...; each carries
  the durable's whole configuration in its description, which is how a
  second process (or a restart) sees that the durable exists and whether
  its configuration matches. Patterns of one durable that contain one
  another are merged; patterns that only partly overlap are refused.
- **Overlaps between durables** are refused by the server itself: on a
  WorkQueue stream JetStream rejects a consumer whose filter overlaps
  another's (error 10100), in either direction, atomically across processes.

Server limits left at JetStream's defaults: at most 1000 unacked messages
per consumer (max_ack_pending), 512 waiting pull requests per consumer,
messages up to the server's max_payload (1 MiB by default).

How the consumers are read, and dead letters: `_jetstream_pull.py`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NotFoundError

from ._subjects import pattern_covers, patterns_overlap, split_pattern

__all__ = ["CREATE_RACE", "MSG_ID_HEADER", "DurableSpec", "WorkStream"]

MSG_ID_HEADER = "Nats-Msg-Id"
_MEMBER_SEPARATOR = "~"  # not allowed in durable names, so member names never collide
_DURABLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_OVERLAPPING_FILTER = 10100  # JSConsumerWQConsumerNotUniqueErr
# What a create answers while another process's create of the same stream is
# still being applied (nats-server 2.9 says either).
CREATE_RACE = frozenset({10058, 10065})  # JSStreamNameExistErr, JSStreamSubjectOverlapErr


@dataclass(frozen=True, slots=True)
class DurableSpec:
    """A durable as the port describes it, and the JetStream consumers it becomes."""

    name: str
    subjects: tuple[str, ...]  # sorted, as given
    ack_wait: float
    max_deliver: int

    @classmethod
    def of(
        cls, name: str, subjects: Sequence[str], ack_wait: float, max_deliver: int
    ) -> DurableSpec:
        if isinstance(subjects, str):
            raise TypeError("subjects is a sequence of patterns, not one string")
        if not name or not subjects:
            raise ValueError("a consumer needs a durable name and at least one subject")
        if not _DURABLE_CHARS.issuperset(name):
            raise ValueError(
                f"durable name {name!r}: use letters, digits, '-' and '_' only "
                "(it names JetStream consumers)"
            )
        if ack_wait <= 0 or max_deliver < 1:
            raise ValueError("ack_wait must be > 0 and max_deliver >= 1")
        for pattern in subjects:
            split_pattern(pattern)
        return cls(name, tuple(sorted(set(subjects))), float(ack_wait), max_deliver)

    def members(self) -> list[tuple[str, str]]:
        """(consumer name, pattern) per JetStream consumer; the first is named
        like the durable."""
        tokens = {pattern: split_pattern(pattern) for pattern in self.subjects}
        kept = [
            pattern
            for pattern in self.subjects
            if not any(
                other != pattern and pattern_covers(tokens[other], tokens[pattern])
                for other in self.subjects
            )
        ]
        for a, b in itertools.combinations(kept, 2):
            if patterns_overlap(tokens[a], tokens[b]):
                raise ValueError(
                    f"durable {self.name!r}: patterns {a!r} and {b!r} overlap without one "
                    "containing the other; on NATS each pattern is a JetStream consumer of its "
                    "own and their filters may not overlap: list disjoint patterns"
                )
        return [
            (self.name if i == 0 else f"{self.name}{_MEMBER_SEPARATOR}{i}", pattern)
            for i, pattern in enumerate(kept)
        ]

    def describe(self) -> str:
        """The configuration, as stored in each consumer's description."""
        return json.dumps(
            {
                "swarmyard_durable": self.name,
                "subjects": list(self.subjects),
                "ack_wait": self.ack_wait,
                "max_deliver": self.max_deliver,
            },
            sort_keys=True,
        )


def _described(info: api.ConsumerInfo) -> str:
    try:
        config = json.loads(info.config.description or "")
        return (
            f"subjects {config['subjects']}, ack_wait={config['ack_wait']}, "
            f"max_deliver={config['max_deliver']}"
        )
    except (ValueError, KeyError, TypeError):
        return f"filter {info.config.filter_subject!r}, not made by Swarmyard"


def _durable_of(consumer: str) -> str:
    return consumer.partition(_MEMBER_SEPARATOR)[0]


class WorkStream:
    """The work-queue stream of one bus: enqueueing and durable consumers."""

    def __init__(self, nc: Client, js: JetStreamContext, name: str, *, dedup_window: float) -> None:
        self._nc = nc
        self._js = js
        self.name = name
        self._dedup_window = dedup_window
        self._prefix = f"{name}."

    def wire(self, subject: str) -> str:
        """The stream subject a port subject or pattern is stored under."""
        return self._prefix + subject

    def unwire(self, subject: str) -> str:
        return subject.removeprefix(self._prefix)

    async def ensure(self) -> None:
        """Create the stream, or check that the existing one is a work queue of ours.
        Whoever creates it first sets its duplicate window."""
        config = api.StreamConfig(
            name=self.name,
            description="Swarmyard work queue",
            subjects=[self.wire(">")],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            discard=api.DiscardPolicy.OLD,
            duplicate_window=self._dedup_window,
        )
        try:
            info = await self._js.stream_info(self.name)
        except NotFoundError:
            try:
                await self._js.add_stream(config)
                return
            except APIError as exc:
                if exc.err_code not in CREATE_RACE:
                    raise
            info = await self._js.stream_info(self.name)  # another process was first
        found = info.config
        if found.retention != api.RetentionPolicy.WORK_QUEUE or found.subjects != config.subjects:
            raise RuntimeError(
                f"stream {self.name!r} exists on the NATS server but is not a Swarmyard work "
                f"queue (retention {found.retention}, subjects {found.subjects}); "
                "name another work stream or remove it"
            )

    async def enqueue(self, subject: str, data: bytes, msg_id: str) -> bool:
        ack = await self._js.publish(
            self.wire(subject), data, stream=self.name, headers={MSG_ID_HEADER: msg_id}
        )
        return not ack.duplicate

    async def open(self, spec: DurableSpec) -> list[str]:
        """Create the durable's consumers unless they exist; their names."""
        members = spec.members()
        try:
            head = await self._js.consumer_info(self.name, spec.name)
        except NotFoundError:
            head = None
        if head is not None:
            if head.config.description != spec.describe():
                raise ValueError(f"durable {spec.name!r} already exists with {_described(head)}")
            return [name for name, _ in members]
        made: list[str] = []
        # The consumer named like the durable last: its presence says the set is complete.
        for name, pattern in reversed(members):
            try:
                await self._js.add_consumer(self.name, self._consumer_config(spec, name, pattern))
            except APIError as exc:
                for undo in made:
                    with contextlib.suppress(APIError):
                        await self._js.delete_consumer(self.name, undo)
                if exc.err_code == _OVERLAPPING_FILTER:
                    raise ValueError(await self._overlap(spec, pattern)) from None
                raise
            made.append(name)
        return [name for name, _ in members]

    def _consumer_config(self, spec: DurableSpec, name: str, pattern: str) -> api.ConsumerConfig:
        return api.ConsumerConfig(
            name=name,
            durable_name=name,
            description=spec.describe(),
            filter_subject=self.wire(pattern),
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=spec.ack_wait,
            max_deliver=-1,  # the adapter counts deliveries and dead-letters itself
            replay_policy=api.ReplayPolicy.INSTANT,
        )

    async def _overlap(self, spec: DurableSpec, pattern: str) -> str:
        """The refusal, naming the durable whose filter the server found in the way."""
        mine = split_pattern(self.wire(pattern))
        for info in await self._js.consumers_info(self.name):
            theirs = info.config.filter_subject or ">"
            owner = _durable_of(info.name or "")
            if owner != spec.name and patterns_overlap(mine, split_pattern(theirs)):
                return (
                    f"durable {spec.name!r}: filter {pattern!r} overlaps "
                    f"{self.unwire(theirs)!r} of durable {owner!r}; "
                    "on a work queue each message goes to one consumer group only"
                )
        return (
            f"durable {spec.name!r}: filter {pattern!r} overlaps another durable's filter; "
            "on a work queue each message goes to one consumer group only"
        )
