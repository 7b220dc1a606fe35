"""Who the CLI says it is: credential precedence, sessions, renewal, refusals."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fake_auth import OWNER_KEY, PASSWORD, write_credentials

from swarmyard.cli import prompts

if TYPE_CHECKING:
    from conftest import FakeApi, Invoke

PROJECTS = "/api/v1/projects"


def bearers(fake: FakeApi, method: str = "GET", path: str = PROJECTS) -> list[str]:
    return [r.headers.get("authorization", "") for r in fake.sent(method, path)]


def login(cli: Invoke, *args: str) -> Any:
    result = cli("login", "--email", "ada@example.com", "--password-stdin", *args, input=PASSWORD)
    assert result.exit_code == 0, result.output
    return result


def stored(data_dir: Path) -> dict[str, Any]:
    session: dict[str, Any] = json.loads((data_dir / "session.json").read_text())
    return session


# ------------------------------------------------------------------ where the credential comes from


def test_credentials_file_key_is_used_by_default(fake: FakeApi, cli: Invoke) -> None:
    assert cli("project", "list").exit_code == 0
    assert bearers(fake) == [f"Bearer {OWNER_KEY}"]


def test_precedence_is_option_then_env_then_session_then_file(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    option_key, env_key = fake.identity.add_key("opt"), fake.identity.add_key("env")
    login(cli)
    access = stored(data_dir)["access_token"]
    runs = [
        cli("--api-key", option_key, "project", "list", env={"SWARMYARD_API_KEY": env_key}),
        cli("project", "list", env={"SWARMYARD_API_KEY": env_key}),
        cli("project", "list"),
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0]
    assert bearers(fake) == [f"Bearer {option_key}", f"Bearer {env_key}", f"Bearer {access}"]
    assert cli("logout").exit_code == 0
    assert cli("project", "list").exit_code == 0
    assert bearers(fake)[-1] == f"Bearer {OWNER_KEY}"


def test_url_and_workspace_come_from_the_credentials_file(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    write_credentials(data_dir, url=fake.url, workspace="acme")
    result = cli("project", "list", url=None)
    assert result.exit_code == 0, result.output
    (sent,) = fake.sent("GET", PROJECTS)
    assert sent.headers["x-swarmyard-workspace"] == "acme"
    # options still win over the file
    cli("-w", "globex", "project", "list", url=None)
    assert fake.sent("GET", PROJECTS)[1].headers["x-swarmyard-workspace"] == "globex"


def test_a_server_listening_everywhere_is_reached_on_loopback(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    port = fake.url.rsplit(":", 1)[1]
    write_credentials(data_dir, url=f"http://0.0.0.0:{port}")
    result = cli("project", "list", url=None)
    assert result.exit_code == 0, result.output
    assert len(fake.sent("GET", PROJECTS)) == 1


def test_the_data_dir_option_beats_the_environment(
    fake: FakeApi, cli: Invoke, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    key = fake.identity.add_key("other")
    write_credentials(other, url=fake.url, api_key=key)
    assert cli("--data-dir", str(other), "project", "list").exit_code == 0
    assert bearers(fake) == [f"Bearer {key}"]


@pytest.mark.parametrize(
    ("content", "why"),
    [("{", "is not valid JSON"), ('{"url": "x"}', "holds no api_key"), ("[]", "one JSON object")],
)
def test_a_broken_credentials_file_is_named(
    cli: Invoke, data_dir: Path, content: str, why: str
) -> None:
    (data_dir / "credentials.json").write_text(content)
    result = cli("project", "list")
    assert result.exit_code == 1
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: cannot use {data_dir / 'credentials.json'}")
    assert why in first
    assert "swarmyard login" in hint


# ------------------------------------------------------------------ login, logout, whoami


def test_login_saves_a_private_session_and_says_who_you_are(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    result = login(cli)
    assert result.stdout.strip() == (
        f"signed in to {fake.url} as ada@example.com, workspace default (role owner)"
    )
    (sent,) = fake.sent("POST", "/api/v1/auth/token")
    assert sent.body == {"email": "ada@example.com", "password": PASSWORD}
    assert "authorization" not in sent.headers
    path = data_dir / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    session = stored(data_dir)
    assert session["url"] == fake.url
    assert session["workspace"] == "default"
    assert session["access_token"].startswith("at-")
    assert session["refresh_token"].startswith("rt-")
    assert PASSWORD not in path.read_text()


def test_login_asks_on_a_terminal_with_the_password_hidden(
    fake: FakeApi, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompts, "stdin_is_terminal", lambda: True)
    result = cli("login", "--workspace", "default", input=f"ada@example.com\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "E-mail:" in result.stdout
    assert "Password:" in result.stdout
    assert PASSWORD not in result.stdout
    assert fake.sent("POST", "/api/v1/auth/token")[0].body["workspace"] == "default"


def test_login_without_a_terminal_needs_the_options(fake: FakeApi, cli: Invoke) -> None:
    no_email = cli("login", "--password-stdin", input=PASSWORD)
    assert no_email.exit_code == 2
    assert "pass --email" in no_email.stderr
    no_password = cli("login", "--email", "ada@example.com")
    assert no_password.exit_code == 2
    assert "--password-stdin" in no_password.stderr
    assert fake.sent("POST", "/api/v1/auth/token") == []


def test_a_wrong_password_is_one_line(fake: FakeApi, cli: Invoke, data_dir: Path) -> None:
    result = cli("login", "--email", "ada@example.com", "--password-stdin", input="nope\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: wrong e-mail address or password"]
    assert not (data_dir / "session.json").exists()


def test_signing_in_again_ends_the_previous_session(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    login(cli)
    first = stored(data_dir)["refresh_token"]
    login(cli)
    assert first not in fake.identity.refresh_tokens
    assert stored(data_dir)["refresh_token"] in fake.identity.refresh_tokens


def test_logout_ends_the_session_and_forgets_it(fake: FakeApi, cli: Invoke, data_dir: Path) -> None:
    login(cli)
    refresh_token = stored(data_dir)["refresh_token"]
    result = cli("logout")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"signed out ada@example.com at {fake.url}"
    (sent,) = fake.sent("POST", "/api/v1/auth/logout")
    assert sent.body == {"refresh_token": refresh_token}
    assert not (data_dir / "session.json").exists()
    again = cli("logout")
    assert again.exit_code == 0
    assert again.stdout.strip() == "not signed in: there is no session to end"


def test_whoami_names_the_principal_and_the_credential(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    result = cli("whoami")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name:", "owner"]
    assert ["kind:", "api_key"] in [line.split() for line in lines]
    assert f"credential: key in {data_dir / 'credentials.json'}" in [
        " ".join(line.split()) for line in lines
    ]
    assert lines[-2:][0].split() == ["ID", "NAME", "ROLE"]
    from_env = cli("whoami", env={"SWARMYARD_API_KEY": OWNER_KEY})
    assert "credential: key from SWARMYARD_API_KEY" in from_env.stdout
    login(cli)
    result = cli("whoami")
    assert ["role:", "owner"] in [line.split() for line in result.stdout.splitlines()]
    assert "session of ada@example.com" in result.stdout
    body = json.loads(cli("--json", "whoami").stdout)
    assert body["principal"]["kind"] == "user"
    assert body["workspaces"] == [{"id": "default", "name": "Default", "role": "owner"}]


# ------------------------------------------------------------------ renewal


def test_a_refused_access_token_is_renewed_and_the_request_sent_again(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    login(cli)
    before = stored(data_dir)
    fake.identity.expire_access_tokens()
    result = cli("project", "create", "alpha")
    assert result.exit_code == 0, result.output
    after = stored(data_dir)
    assert after["refresh_token"] != before["refresh_token"]  # rotated and saved
    assert fake.identity.refresh_tokens[before["refresh_token"]]["used"]
    assert [r.path for r in fake.requests if r.path != "/healthz"] == [
        "/api/v1/auth/token",
        PROJECTS,
        "/api/v1/auth/refresh",
        PROJECTS,
    ]
    posts = fake.sent("POST", PROJECTS)
    assert [p.headers["authorization"] for p in posts] == [
        f"Bearer {before['access_token']}",
        f"Bearer {after['access_token']}",
    ]
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert len(fake.projects) == 1
    assert stat.S_IMODE((data_dir / "session.json").stat().st_mode) == 0o600


def test_an_expired_access_token_is_renewed_before_it_is_sent(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    login(cli)
    session = stored(data_dir)
    (data_dir / "session.json").write_text(json.dumps(session | {"expires_at": 0}))
    assert cli("project", "list").exit_code == 0
    assert [r.path for r in fake.requests][1:] == ["/api/v1/auth/refresh", PROJECTS]
    assert bearers(fake) == [f"Bearer {stored(data_dir)['access_token']}"]


def test_a_session_that_cannot_be_renewed_says_so(
    fake: FakeApi, cli: Invoke, data_dir: Path
) -> None:
    login(cli)
    fake.identity.expire_access_tokens()
    fake.identity.refresh_tokens.clear()
    result = cli("project", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: your session expired: run `swarmyard login`"]
    assert len(fake.sent("GET", PROJECTS)) == 1


# ------------------------------------------------------------------ refusals


def test_no_credential_at_all_is_a_401_with_a_hint(cli: Invoke, data_dir: Path) -> None:
    (data_dir / "credentials.json").unlink()
    result = cli("project", "list")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: send 'Authorization: Bearer <access token or API key>' "
        "(sign in at POST /api/v1/auth/token)",
        "  run swarmyard login, or pass --api-key",
    ]


def test_an_unknown_key_is_refused_with_the_same_hint(cli: Invoke) -> None:
    result = cli("--api-key", "sy_nobody_x", "agent", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: unknown API key",
        "  run swarmyard login, or pass --api-key",
    ]


def test_a_role_that_may_not_act_is_a_403_naming_it(fake: FakeApi, cli: Invoke) -> None:
    viewer = fake.identity.add_key("reader", role="viewer")
    assert cli("--api-key", viewer, "project", "list").exit_code == 0
    result = cli("--api-key", viewer, "project", "create", "alpha")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: your role (viewer) may not project.create"]
    assert fake.projects == {}


def test_status_needs_no_credential(fake: FakeApi, cli: Invoke, data_dir: Path) -> None:
    (data_dir / "credentials.json").unlink()
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert "authorization" not in fake.sent("GET", "/healthz")[0].headers


def test_an_empty_api_key_is_a_usage_error(cli: Invoke) -> None:
    result = cli("--api-key", " ", "project", "list")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: the API key is empty"
