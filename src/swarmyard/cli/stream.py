"""Server-Sent Events: parsing, and following a stream across reconnects.

The server streams a task tree's changes and a run's events as SSE. A
connection can drop at any moment (a proxy's idle timeout, a server
restart); `follow` reconnects and carries on. Run streams resume from the
last event id; task streams resend the tree's state on connect, so the
consumer treats what it already saw as idempotent. The parser follows the
WHATWG event-stream rules: comments, multi-line data, ``id:`` persistence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import ApiError, CliError, NoServer, ServerGone

__all__ = ["SseEvent", "SseParser", "StreamSource", "follow", "parse_sse"]

MAX_RECONNECTS = 8
_BACKOFF_START = 0.1
_BACKOFF_MAX = 2.0


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.data)
        except ValueError:
            raise CliError(f"the server sent a {self.event!r} event that is not JSON") from None


class SseParser:
    """Feed it lines (without their line ends); it returns each complete event."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):  # a comment: servers use them as keepalives
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self.last_event_id = value or None
        elif field == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SseEvent(event or "message", "\n".join(data), self.last_event_id)


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """The events in a stream of lines; an unfinished last event is dropped."""
    parser = SseParser()
    first = True
    for raw in lines:
        line = raw.rstrip("\r\n")
        if first:
            line, first = line.removeprefix("\ufeff"), False
        event = parser.feed(line)
        if event is not None:
            yield event


class StreamSource(Protocol):
    def stream(
        self, path: str, *, last_event_id: str | None = None
    ) -> AbstractContextManager[Iterator[str]]: ...


def follow(
    source: StreamSource,
    path: str,
    *,
    until: Callable[[SseEvent], bool],
    resume: bool = True,
    last_event_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[SseEvent]:
    """Every event of the stream at `path` up to and including the one for
    which `until` is true, reconnecting when the connection drops.

    The first connection must succeed (else its error is raised at once);
    later ones are retried with backoff, `MAX_RECONNECTS` times in a row.
    """
    failures = 0
    connected = False
    while True:
        problem: CliError | None = None
        try:
            with source.stream(path, last_event_id=last_event_id if resume else None) as lines:
                connected = True
                for event in parse_sse(lines):
                    failures = 0
                    last_event_id = event.id or last_event_id
                    yield event
                    if until(event):
                        return
        except (NoServer, ServerGone) as exc:
            if not connected:
                raise
            problem = exc
        except ApiError as exc:
            if exc.status < 500 or not connected:
                raise
            problem = exc
        failures += 1
        if failures > MAX_RECONNECTS:
            raise problem or ServerGone(f"the stream {path} kept closing before its end")
        sleep(min(_BACKOFF_START * 2 ** (failures - 1), _BACKOFF_MAX))
