"""SSE parsing and reconnection, and the HTTP client's retry and error rules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from swarmyard.cli.client import IDEMPOTENCY_HEADER, ApiClient
from swarmyard.cli.errors import ApiError, CliError, NoServer, ServerGone
from swarmyard.cli.stream import SseEvent, follow, parse_sse


def events(text: str) -> list[SseEvent]:
    return list(parse_sse(text.splitlines()))


def test_multi_line_data_is_joined_with_newlines() -> None:
    got = events('event: task\ndata: {"a":\ndata:  1}\n\n')
    assert got == [SseEvent("task", '{"a":\n 1}')]
    assert got[0].json() == {"a": 1}


def test_comments_and_keepalives_are_ignored() -> None:
    got = events(": keepalive\n\n:another\nevent: end\n: in the middle\ndata: {}\n\n")
    assert got == [SseEvent("end", "{}")]


def test_id_is_kept_for_later_events_until_changed() -> None:
    got = events("id: 7\nevent: step\ndata: a\n\nevent: step\ndata: b\n\nid: 9\ndata: c\n\n")
    assert [(e.id, e.event, e.data) for e in got] == [
        ("7", "step", "a"),
        ("7", "step", "b"),
        ("9", "message", "c"),
    ]


def test_field_details_follow_the_event_stream_rules() -> None:
    text = "\ufeffdata:no space\n\ndata\n\nevent: lonely\n\nretry: 100\ndata:  two spaces\r\n\n"
    got = events(text)
    # one leading space is dropped, not two; "data" alone is an empty line of
    # data; an event with no data is not dispatched; \r\n endings are fine.
    assert [e.data for e in got] == ["no space", "", " two spaces"]


def test_an_unfinished_event_at_the_end_is_dropped() -> None:
    assert events("event: end\ndata: {}") == []


def test_invalid_json_data_is_a_clear_error() -> None:
    with pytest.raises(CliError, match="not JSON"):
        SseEvent("task", "{nope").json()


class ScriptedSource:
    """Each connection yields its script's lines, then fails as told."""

    def __init__(self, *scripts: tuple[str, Exception | None]) -> None:
        self.scripts = list(scripts)
        self.last_ids: list[str | None] = []

    @contextmanager
    def stream(self, path: str, *, last_event_id: str | None = None) -> Iterator[Iterator[str]]:
        self.last_ids.append(last_event_id)
        text, failure = self.scripts.pop(0)

        def lines() -> Iterator[str]:
            yield from text.splitlines()
            if failure is not None:
                raise failure

        yield lines()


def frame(seq: int, kind: str) -> str:
    return f"id: {seq}\nevent: {kind}\ndata: {{}}\n\n"


def test_follow_resumes_from_the_last_event_id_after_a_break() -> None:
    source = ScriptedSource(
        (frame(1, "started") + frame(2, "step"), ServerGone("cut")),
        ("", None),  # a connection that closes at once counts as a failure too
        (frame(3, "completed"), None),
    )
    got = list(
        follow(
            source, "/runs/r/stream", until=lambda e: e.event == "completed", sleep=lambda _: None
        )
    )
    assert [e.id for e in got] == ["1", "2", "3"]
    assert source.last_ids == [None, "2", "2"]


def test_follow_stops_at_the_final_event_without_reading_further() -> None:
    source = ScriptedSource((frame(1, "end") + frame(2, "extra"), None))
    got = list(follow(source, "/x", until=lambda e: e.event == "end", sleep=lambda _: None))
    assert [e.event for e in got] == ["end"]


def test_follow_raises_at_once_when_the_first_connection_fails() -> None:
    class Down:
        def stream(self, path: str, *, last_event_id: str | None = None) -> object:
            raise NoServer("http://x")

    with pytest.raises(NoServer):
        list(follow(Down(), "/x", until=lambda e: True))  # type: ignore[arg-type]


def test_follow_gives_up_after_repeated_failures() -> None:
    source = ScriptedSource(*[(frame(1, "step"), None)] + [("", None)] * 20)
    with pytest.raises(ServerGone, match="kept closing"):
        list(follow(source, "/x", until=lambda e: False, sleep=lambda _: None))


def test_follow_does_not_retry_a_client_error() -> None:
    class Gone(ScriptedSource):
        @contextmanager
        def stream(self, path: str, *, last_event_id: str | None = None) -> Iterator[Iterator[str]]:
            if self.last_ids:
                raise ApiError(404, "not_found", "run 'r' not found")
            with super().stream(path, last_event_id=last_event_id) as lines:
                yield lines

    source = Gone((frame(1, "step"), None))
    with pytest.raises(ApiError, match="not found"):
        list(follow(source, "/x", until=lambda e: False, sleep=lambda _: None))


# ---------------------------------------------------------------- the HTTP client


def test_a_broken_connection_is_retried_with_the_same_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        return httpx.Response(201, json={"id": "p1"})

    client = ApiClient("http://test", "acme", transport=httpx.MockTransport(handler))
    assert client.post("/projects", {"name": "x"}) == {"id": "p1"}
    keys = [r.headers[IDEMPOTENCY_HEADER] for r in seen]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert uuid.UUID(keys[0]).version == 4
    assert all(r.headers["x-swarmyard-workspace"] == "acme" for r in seen)


def test_each_mutation_gets_its_own_key_and_reads_get_none() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    client = ApiClient("http://test", "default", transport=httpx.MockTransport(handler))
    client.post("/a", {})
    client.patch("/a", {})
    client.delete("/a")
    client.get("/a")
    keys = [r.headers.get(IDEMPOTENCY_HEADER) for r in seen]
    assert len(set(keys[:3])) == 3
    assert keys[3] is None


def test_a_connection_that_keeps_breaking_ends_as_server_gone() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    client = ApiClient("http://test", "default", transport=httpx.MockTransport(handler))
    with pytest.raises(ServerGone) as caught:
        client.get("/tasks")
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    ("response", "message", "hints"),
    [
        (
            httpx.Response(422, json={"detail": [{"loc": ["body", "title"], "msg": "required"}]}),
            "HTTP 422",
            ["body.title: required"],
        ),
        (httpx.Response(502, text="Bad gateway"), "HTTP 502 Bad Gateway", ["Bad gateway"]),
        (httpx.Response(404, json={"detail": "Not Found"}), "Not Found", []),
    ],
)
def test_error_bodies_that_are_not_ours_still_read_well(
    response: httpx.Response, message: str, hints: list[str]
) -> None:
    client = ApiClient("http://test", "default", transport=httpx.MockTransport(lambda r: response))
    with pytest.raises(ApiError) as caught:
        client.get("/tasks")
    assert caught.value.message == message
    assert caught.value.hints == hints


def test_a_body_that_is_not_json_is_reported() -> None:
    response = httpx.Response(200, text="<html>")
    client = ApiClient("http://test", "default", transport=httpx.MockTransport(lambda r: response))
    with pytest.raises(CliError, match="not JSON"):
        client.get("/tasks")


def test_list_all_follows_cursors() -> None:
    pages = {None: (["a", "b"], "2"), "2": (["c"], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        items, cursor = pages[request.url.params.get("cursor")]
        return httpx.Response(200, content=json.dumps({"items": items, "next_cursor": cursor}))

    client = ApiClient("http://test", "default", transport=httpx.MockTransport(handler))
    assert client.list_all("/agents") == ["a", "b", "c"]
