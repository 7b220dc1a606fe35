"""The NATS bus: cluster mode's implementation of the Bus port.

API, worker and scheduler processes on any hosts talk through one NATS
server (or cluster) with JetStream enabled. The adapter passes the same
conformance suite as the in-process bus, and promises the same:

- publish/subscribe on core NATS, **at most once**, in publish order;
  ``*`` and ``>`` wildcards as NATS defines them (the in-process bus copies
  them). Headers travel with the message.
- request/reply on core NATS; the servers of one subject form a NATS queue
  group, so each request reaches one of them, in whichever process. A
  request nobody serves fails at once (the server says "no responders").
- the durable work queue on JetStream, **at least once**, with
  ``Nats-Msg-Id`` deduplication, durable pull consumers and dead letters:
  `_jetstream.py` describes its layout on the server, `_jetstream_pull.py`
  how it is read and how messages are dead-lettered.

The connection is opened on first use, so `create_bus` stays synchronous,
and a server that cannot be reached is a `ConnectionError` naming the URL.
Once connected, nats-py reconnects on its own for as long as it takes and
re-registers subscriptions; publishes and requests made meanwhile are
buffered and sent on reconnection. A pull request lost with the connection
leaves its fetch empty-handed (after its timeout and a second's grace); the
next fetch asks again.

nats-py is imported here (and in the modules this one uses) only: the
process imports this module when ``SWARMYARD_BUS_URL`` names NATS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qs, urlsplit, urlunsplit

import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError

from swarmyard.ports import BusClosed, BusMessage

from ._jetstream import DurableSpec, WorkStream
from ._jetstream_pull import NatsConsumer
from ._nats_pubsub import NatsServer, NatsSubscription
from ._subjects import split_pattern, split_subject

__all__ = ["DEFAULT_NAMESPACE", "NatsBus", "shown_url"]

_log = logging.getLogger(__name__)

DEFAULT_DEDUP_WINDOW = 120.0  # seconds, JetStream's default duplicate window
DEFAULT_NAMESPACE = "SWARMYARD"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _namespace(url: str) -> tuple[list[str], str]:
    """The server URLs, and the ``?namespace=`` that names this installation's
    JetStream stream and bucket (several installations can share one server)."""
    servers, _, query = url.partition("?")
    options = parse_qs(query, keep_blank_values=True)
    unknown = set(options) - {"namespace"}
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} in the NATS URL: only 'namespace' is known"
        )
    namespace = options.get("namespace", [DEFAULT_NAMESPACE])[-1]
    if not namespace or not _NAME_CHARS.issuperset(namespace):
        raise ValueError(
            f"namespace {namespace!r} in the NATS URL: use letters, digits, '-' and '_' only"
        )
    return [server.strip() for server in servers.split(",")], namespace


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = []
    for server in url.split(","):
        split = urlsplit(server.strip())
        if split.password:
            host = split.hostname or ""
            netloc = f"{split.username}:***@{host}" + (f":{split.port}" if split.port else "")
            split = split._replace(netloc=netloc)
        parts.append(urlunsplit(split))
    return ",".join(parts)


class NatsBus:
    """The Bus port on a NATS server with JetStream.

    `url` is ``nats://host:port`` (several servers of a cluster separated by
    commas; credentials as ``nats://user:password@host:port``), optionally
    followed by ``?namespace=NAME`` (default ``SWARMYARD``). The namespace
    names what this installation keeps on the server: the work queue's
    stream ``<NAME>_WORK`` and the leader leases' bucket ``<NAME>_LEADERS``;
    processes of one installation must agree on it. `work_stream` overrides
    the stream's name (tests give each bus a stream of its own); the stream
    also names the subject space its messages are stored under. Once
    connected, the bus retries a lost connection every `reconnect_wait`
    seconds, for ever.
    """

    def __init__(
        self,
        url: str,
        *,
        work_stream: str | None = None,
        dedup_window: float = DEFAULT_DEDUP_WINDOW,
        connect_timeout: float = 5.0,
        reconnect_wait: float = 2.0,
    ) -> None:
        if dedup_window <= 0:
            raise ValueError(f"dedup_window must be > 0, not {dedup_window}")
        self.url = url
        self._servers, self.namespace = _namespace(url)
        self.work_stream = work_stream or f"{self.namespace}_WORK"
        self._dedup_window = dedup_window
        self._connect_timeout = connect_timeout
        self._reconnect_wait = reconnect_wait
        self._lock = asyncio.Lock()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._work: WorkStream | None = None
        self._subscriptions: set[NatsSubscription] = set()
        self._servers_running: set[NatsServer] = set()
        self._consumers: set[NatsConsumer] = set()
        self._closed = False

    def __repr__(self) -> str:
        return f"NatsBus({shown_url(self.url)!r}, work_stream={self.work_stream!r})"

    # ----------------------------------------------------------- connection

    async def connection(self) -> Client:
        """The connection, opened on first use."""
        self._check_open()
        if self._nc is not None:
            return self._nc
        async with self._lock:
            self._check_open()
            if self._nc is None:
                self._nc = await self._connect()
            return self._nc

    async def jetstream(self) -> JetStreamContext:
        """JetStream on this bus's connection (the leader lease uses its KV)."""
        self._check_open()
        if self._js is None:
            self._js = (await self.connection()).jetstream()
        return self._js

    async def _connect(self) -> Client:
        nc = Client()
        last_error: BaseException | None = None

        async def on_error(exc: Exception) -> None:
            nonlocal last_error
            last_error = exc
            _log.warning("NATS at %s: %s", shown_url(self.url), exc or type(exc).__name__)

        async def on_disconnected() -> None:
            if not self._closed:
                _log.warning("disconnected from NATS at %s; reconnecting", shown_url(self.url))

        async def on_reconnected() -> None:
            _log.info("reconnected to NATS at %s", shown_url(self.url))

        try:
            async with asyncio.timeout(self._connect_timeout):
                await nc.connect(
                    servers=self._servers,
                    name="swarmyard",
                    error_cb=on_error,
                    disconnected_cb=on_disconnected,
                    reconnected_cb=on_reconnected,
                    # Never give up once connected; the first connection is
                    # bounded by connect_timeout instead.
                    max_reconnect_attempts=-1,
                    # Annotated int by nats-py, used as seconds to sleep: a float works.
                    reconnect_time_wait=self._reconnect_wait,  # type: ignore[arg-type]
                    connect_timeout=max(1, round(self._connect_timeout)),
                )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            await nc.close()
            cause = last_error or exc
            raise ConnectionError(
                f"cannot reach NATS at {shown_url(self.url)} (SWARMYARD_BUS_URL) within "
                f"{self._connect_timeout:g} s: {cause or type(cause).__name__}"
            ) from None
        await self._require_jetstream(nc)
        return nc

    async def _require_jetstream(self, nc: Client) -> None:
        """Refuse a server without JetStream now, in words, rather than at the
        first work item with a bare 503 from the JetStream API."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                await nc.jetstream().account_info()
        except (TimeoutError, nats.errors.Error) as exc:
            await nc.close()
            raise ConnectionError(
                f"NATS at {shown_url(self.url)} (SWARMYARD_BUS_URL) does not offer JetStream "
                f"({type(exc).__name__}); start nats-server with -js"
            ) from None

    async def _work_queue(self) -> WorkStream:
        self._check_open()
        if self._work is not None:
            return self._work
        nc = await self.connection()
        js = await self.jetstream()
        async with self._lock:
            if self._work is None:
                work = WorkStream(nc, js, self.work_stream, dedup_window=self._dedup_window)
                try:
                    await work.ensure()
                except ServiceUnavailableError:
                    raise RuntimeError(
                        f"JetStream is not enabled on the NATS server at {shown_url(self.url)}: "
                        "start nats-server with -js (the work queue and leader leases need it)"
                    ) from None
                self._work = work
            return self._work

    # ----------------------------------------------------------- pub/sub

    async def publish(
        self, subject: str, data: bytes, *, headers: dict[str, str] | None = None
    ) -> None:
        """Fire-and-forget to current subscribers."""
        split_subject(subject)
        nc = await self.connection()
        await nc.publish(subject, data, headers=dict(headers) if headers else None)

    async def subscribe(self, pattern: str) -> NatsSubscription:
        split_pattern(pattern)
        nc = await self.connection()
        subscription = NatsSubscription(pattern, self._subscriptions.discard)
        await subscription.start(nc)
        self._subscriptions.add(subscription)
        return subscription

    async def request(self, subject: str, data: bytes, *, timeout: float) -> BusMessage:
        """Send and wait for one reply; TimeoutError when none comes (or nobody listens)."""
        split_subject(subject)
        nc = await self.connection()
        try:
            reply = await nc.request(subject, data, timeout=timeout)
        except nats.errors.NoRespondersError:
            raise TimeoutError(f"no responders on {subject!r}") from None
        except nats.errors.TimeoutError:
            raise TimeoutError(f"no reply on {subject!r} within {timeout} s") from None
        return BusMessage(subject=reply.subject, data=reply.data, headers=dict(reply.headers or {}))

    async def serve(
        self, subject: str, handler: Callable[[BusMessage], Awaitable[bytes]]
    ) -> NatsServer:
        """Answer requests on `subject` with `handler`'s bytes; servers of one
        subject form a queue group (each request goes to one of them)."""
        split_pattern(subject)
        nc = await self.connection()
        server = NatsServer(subject, handler, self._servers_running.discard)
        await server.start(nc)
        self._servers_running.add(server)
        return server

    # ----------------------------------------------------------- work queue

    async def enqueue(self, subject: str, data: bytes, *, msg_id: str) -> bool:
        """Put a message on the work queue; False if `msg_id` was seen within
        the deduplication window."""
        split_subject(subject)
        if not msg_id:
            raise ValueError("msg_id must not be empty: it is the deduplication key")
        work = await self._work_queue()
        return await work.enqueue(subject, data, msg_id)

    async def consumer(
        self, durable: str, subjects: Sequence[str], *, ack_wait: float = 30.0, max_deliver: int = 5
    ) -> NatsConsumer:
        """A pull consumer of `durable`; ValueError if `subjects` overlap another
        durable's filter, or `durable` exists with a different configuration."""
        spec = DurableSpec.of(durable, subjects, ack_wait, max_deliver)
        work = await self._work_queue()
        members = await work.open(spec)
        nc = await self.connection()
        consumer = NatsConsumer(work, nc, spec, members, self._consumers.discard)
        await consumer.start()
        self._consumers.add(consumer)
        return consumer

    # ----------------------------------------------------------- lifecycle

    async def close(self) -> None:
        """Stop serving, end subscriptions and consumers, flush what was
        published and close the connection; idempotent."""
        if self._closed:
            return
        self._closed = True
        for consumer in list(self._consumers):
            await consumer.close()
        for server in list(self._servers_running):
            await server.unsubscribe()
        for subscription in list(self._subscriptions):
            subscription.close()
        nc = self._nc
        if nc is None or nc.is_closed:
            return
        try:
            await nc.drain()  # delivers what is on its way and flushes our publishes
        except nats.errors.Error:
            await nc.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the bus is closed")
