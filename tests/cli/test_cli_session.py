"""The session's files and renewal rules, driven without a server process."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from swarmyard.cli.apikeys import key_state
from swarmyard.cli.audit import parse_since
from swarmyard.cli.bearer import FixedKey, SignedIn
from swarmyard.cli.client import ApiClient
from swarmyard.cli.credentials import resolve
from swarmyard.cli.errors import (
    SIGN_IN_HINT,
    ApiError,
    CliError,
    NotAllowed,
    NotSignedIn,
    ServerGone,
    SessionExpired,
)
from swarmyard.cli.store import DataDir, Session

NOW = 1_000_000.0
Handler = Callable[[httpx.Request], httpx.Response]


def a_session(**changes: Any) -> Session:
    base = Session(
        url="http://test",
        workspace="default",
        email="ada@example.com",
        role="owner",
        access_token="at-old",
        refresh_token="rt-old",
        expires_at=NOW + 900,
    )
    return replace(base, **changes)


def tokens(n: int) -> dict[str, object]:
    return {
        "access_token": f"at-{n}",
        "refresh_token": f"rt-{n}",
        "expires_in": 900,
        "workspace_id": "default",
        "role": "owner",
    }


class Server:
    """Answers 401 to any access token but `good`, and renews refresh tokens."""

    def __init__(self, good: str = "at-1") -> None:
        self.good = good
        self.seen: list[tuple[str, str]] = []
        self.renewals = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("authorization", "")
        self.seen.append((request.url.path, bearer))
        if request.url.path == "/api/v1/auth/refresh":
            self.renewals += 1
            return httpx.Response(200, json=tokens(self.renewals))
        if bearer != f"Bearer {self.good}":
            return httpx.Response(401, json={"error": {"code": "x", "message": "token expired"}})
        if request.url.path.endswith("/stream"):
            return httpx.Response(200, text="event: end\ndata: {}\n\n")
        return httpx.Response(200, json={"ok": True})


def signed_in(tmp_path: Path, session: Session, handler: Handler) -> tuple[ApiClient, DataDir]:
    store = DataDir(tmp_path)
    store.write_session(session)
    bearer = SignedIn(store, session, clock=lambda: NOW)
    client = ApiClient(
        "http://test", "default", bearer=bearer, transport=httpx.MockTransport(handler)
    )
    return client, store


# ------------------------------------------------------------------ renewal


def test_a_refused_stream_is_opened_again_with_the_renewed_token(tmp_path: Path) -> None:
    server = Server()
    client, store = signed_in(tmp_path, a_session(), server)
    with client.stream("/tasks/t1/stream") as lines:
        assert list(lines) == ["event: end", "data: {}", ""]
    assert server.seen == [
        ("/api/v1/tasks/t1/stream", "Bearer at-old"),
        ("/api/v1/auth/refresh", ""),
        ("/api/v1/tasks/t1/stream", "Bearer at-1"),
    ]
    saved = store.read_session()
    assert saved is not None
    assert (saved.access_token, saved.refresh_token, saved.expires_at) == (
        "at-1",
        "rt-1",
        NOW + 900,
    )


def test_a_refused_stream_with_a_fixed_key_is_a_sign_in_error() -> None:
    server = Server()
    transport = httpx.MockTransport(server)
    client = ApiClient("http://test", "default", bearer=FixedKey("sy_k_s"), transport=transport)
    with pytest.raises(NotSignedIn, match="token expired"), client.stream("/runs/r/stream"):
        pass  # pragma: no cover - never opened
    assert [path for path, _ in server.seen] == ["/api/v1/runs/r/stream"]


def test_a_request_is_sent_again_once_only(tmp_path: Path) -> None:
    server = Server(good="never")
    client, _ = signed_in(tmp_path, a_session(), server)
    with pytest.raises(NotSignedIn) as caught:
        client.get("/tasks")
    assert [path for path, _ in server.seen] == [
        "/api/v1/tasks",
        "/api/v1/auth/refresh",
        "/api/v1/tasks",
    ]
    assert caught.value.lines() == ["error: token expired", f"  {SIGN_IN_HINT}"]


def test_a_session_renewed_by_another_command_is_adopted_not_spent_again(
    tmp_path: Path,
) -> None:
    server = Server(good="at-9")
    client, store = signed_in(tmp_path, a_session(), server)
    store.write_session(a_session(access_token="at-9", refresh_token="rt-9"))
    assert client.get("/tasks") == {"ok": True}
    assert server.renewals == 0
    assert server.seen[-1] == ("/api/v1/tasks", "Bearer at-9")


def test_a_session_signed_out_meanwhile_is_not_brought_back(tmp_path: Path) -> None:
    server = Server()
    client, store = signed_in(tmp_path, a_session(), server)
    store.forget_session()
    with pytest.raises(SessionExpired):
        client.get("/tasks")
    assert server.renewals == 0
    assert store.read_session() is None


def test_a_server_failure_while_renewing_is_not_called_an_expiry(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/refresh":
            return httpx.Response(503, json={"error": {"code": "x", "message": "busy"}})
        return httpx.Response(401, json={"error": {"code": "x", "message": "expired"}})

    client, _ = signed_in(tmp_path, a_session(), handler)
    with pytest.raises(ApiError) as caught:
        client.get("/tasks")
    assert caught.value.status == 503


def test_a_refresh_token_is_never_sent_twice_over_a_broken_connection(tmp_path: Path) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/api/v1/auth/refresh":
            raise httpx.RemoteProtocolError("cut", request=request)
        return httpx.Response(401, json={"error": {"code": "x", "message": "expired"}})

    client, _ = signed_in(tmp_path, a_session(expires_at=0.0), handler)
    with pytest.raises(ServerGone):
        client.get("/tasks")
    assert sent == ["/api/v1/auth/refresh"]


def test_a_fixed_key_is_not_renewed() -> None:
    key = FixedKey("sy_k_s")
    assert key.token(lambda _: {}) == "sy_k_s"
    assert key.renew(lambda _: {}) is False


# ------------------------------------------------------------------ files


def test_a_session_is_written_private_and_whole(tmp_path: Path) -> None:
    store = DataDir(tmp_path / "new" / "dir")
    store.write_session(a_session())
    assert stat.S_IMODE(store.session_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o700
    assert [p.name for p in store.path.iterdir()] == ["session.json"]  # no temporary left
    assert store.read_session() == a_session()
    assert store.forget_session() is True
    assert store.forget_session() is False


def test_a_damaged_session_file_is_named(tmp_path: Path) -> None:
    store = DataDir(tmp_path)
    store.session_path.write_text(json.dumps({"url": "http://x"}))
    with pytest.raises(CliError, match="missing or bad field"):
        store.read_session()


def test_the_session_supplies_url_and_workspace_before_the_key_file(tmp_path: Path) -> None:
    store = DataDir(tmp_path)
    (tmp_path / "credentials.json").write_text(
        json.dumps({"url": "http://file:1", "workspace": "filed", "api_key": "sy_a_b"})
    )
    assert resolve(store, url=None, workspace=None, api_key=None).url == "http://file:1"
    store.write_session(a_session(url="http://session:2", workspace="acme"))
    target = resolve(store, url=None, workspace=None, api_key=None)
    assert (target.url, target.workspace) == ("http://session:2", "acme")
    assert target.credential is not None
    assert target.credential.source == "session"
    given = resolve(store, url="http://given:3", workspace="w", api_key="sy_k_s")
    assert (given.url, given.workspace) == ("http://given:3", "w")
    assert given.credential is not None
    assert given.credential.key == "sy_k_s"


def test_nothing_stored_means_the_defaults_and_no_credential(tmp_path: Path) -> None:
    target = resolve(DataDir(tmp_path / "none"), url=None, workspace=None, api_key=None)
    assert (target.url, target.workspace, target.credential) == (
        "http://127.0.0.1:8420",
        "default",
        None,
    )


def test_a_token_answer_without_tokens_is_an_error() -> None:
    with pytest.raises(CliError, match="no access and refresh token"):
        Session.from_tokens({"expires_in": 5}, url="http://x", email="a", now=NOW)


# ------------------------------------------------------------------ wording


def test_a_refusal_names_role_and_action_once_and_keeps_other_details() -> None:
    error = NotAllowed(
        "forbidden",
        "your role (viewer) may not task.create",
        {"action": "task.create", "role": "viewer", "reason": "viewers only read"},
    )
    assert error.lines() == [
        "error: your role (viewer) may not task.create",
        "  reason: viewers only read",
    ]
    assert error.details["role"] == "viewer"


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("90m", "2025-03-01T08:30:00+00:00"),
        ("12h", "2025-02-28T22:00:00+00:00"),
        ("7d", "2025-02-22T10:00:00+00:00"),
        ("2025-02-01T09:30:00+01:00", "2025-02-01T09:30:00+01:00"),
    ],
)
def test_since_takes_a_moment_or_a_span(given: str, sent: str) -> None:
    now = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert parse_since(given, now=lambda: now) == sent


def test_since_reads_a_naive_time_as_local() -> None:
    got = datetime.fromisoformat(parse_since("2025-02-01T09:30"))
    assert got.utcoffset() is not None
    assert got.replace(tzinfo=None) == datetime(2025, 2, 1, 9, 30)


def test_since_refuses_anything_else() -> None:
    import typer

    with pytest.raises(typer.BadParameter, match="neither a time"):
        parse_since("yesterday")


@pytest.mark.parametrize(
    ("key", "state"),
    [
        ({"revoked_at": "2025-01-01T00:00:00+00:00"}, "revoked"),
        ({"expires_at": "2025-02-01T00:00:00+00:00"}, "expired"),
        ({"expires_at": "2025-04-01T00:00:00"}, "active"),
        ({"expires_at": None}, "active"),
    ],
)
def test_key_state(key: dict[str, object], state: str) -> None:
    assert key_state(key, now=datetime(2025, 3, 1, tzinfo=UTC)) == state
