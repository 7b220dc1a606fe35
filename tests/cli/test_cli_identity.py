"""``user``, ``apikey``, ``audit`` and ``workspace``: what they send and show."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from swarmyard.cli import prompts

if TYPE_CHECKING:
    from conftest import FakeApi, Invoke

MEMBERS = "/api/v1/workspaces/default/members"
TERMINAL = {"TTY_COMPATIBLE": "1", "FORCE_COLOR": "1"}


def columns(line: str) -> list[str]:
    return line.split()


# ------------------------------------------------------------------ users


def test_user_create_sends_the_password_to_the_current_workspace(
    fake: FakeApi, cli: Invoke
) -> None:
    result = cli(
        "user",
        "create",
        "bob@example.com",
        "--name",
        "Bob",
        "--role",
        "admin",
        "--password-stdin",
        input="s3cret\n",
    )
    assert result.exit_code == 0, result.output
    (sent,) = fake.sent("POST", MEMBERS)
    assert sent.body == {
        "email": "bob@example.com",
        "role": "admin",
        "name": "Bob",
        "password": "s3cret",
    }
    assert "idempotency-key" in sent.headers
    user_id = json.loads(cli("--json", "user", "list").stdout)["items"][1]["user_id"]
    assert result.stdout.strip() == (
        f"added bob@example.com ({user_id}) to workspace default as admin"
    )


def test_user_create_asks_twice_on_a_terminal(
    fake: FakeApi, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompts, "stdin_is_terminal", lambda: True)
    result = cli("user", "create", "bob@example.com", input="pw\npw\n")
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation:" in result.stdout
    assert "pw" not in result.stdout.replace("Password", "")
    assert fake.sent("POST", MEMBERS)[0].body == {
        "email": "bob@example.com",
        "role": "member",
        "password": "pw",
    }


def test_user_create_without_a_terminal_needs_password_stdin(fake: FakeApi, cli: Invoke) -> None:
    result = cli("user", "create", "bob@example.com")
    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr
    empty = cli("user", "create", "bob@example.com", "--password-stdin", input="\n")
    assert empty.exit_code == 2
    assert empty.stderr.strip() == "error: the password is empty"
    assert fake.mutations() == []


def test_user_commands_act_in_the_chosen_workspace(fake: FakeApi, cli: Invoke) -> None:
    fake.identity.add_workspace("acme", "Acme")
    fake.identity.add_user("carol@example.com", "Carol", workspace="acme")
    result = cli("-w", "acme", "user", "list")
    assert result.exit_code == 0, result.output
    assert fake.requests[-1].path == "/api/v1/workspaces/acme/members"
    assert "carol@example.com" in result.stdout
    assert "ada@example.com" not in result.stdout


def test_user_list_plain_and_json(fake: FakeApi, cli: Invoke) -> None:
    fake.identity.add_user("bob@example.com", "Bob", role="viewer")
    result = cli("user", "list")
    assert result.exit_code == 0, result.output
    header, ada, bob = result.stdout.splitlines()
    assert columns(header) == ["EMAIL", "NAME", "ROLE", "USER", "ID", "ADDED"]
    assert columns(ada)[:4] == ["ada@example.com", "Ada", "owner", "usr-1"]
    assert columns(bob)[:3] == ["bob@example.com", "Bob", "viewer"]
    body = json.loads(cli("--json", "user", "list").stdout)
    assert [m["email"] for m in body["items"]] == ["ada@example.com", "bob@example.com"]


def test_user_role_finds_the_member_by_email(fake: FakeApi, cli: Invoke) -> None:
    bob = fake.identity.add_user("bob@example.com", "Bob")
    result = cli("user", "role", "Bob@Example.com", "admin")
    assert result.exit_code == 0, result.output
    (sent,) = fake.sent("PATCH", f"{MEMBERS}/{bob['id']}")
    assert sent.body == {"role": "admin"}
    assert result.stdout.strip() == "bob@example.com is now admin"
    by_id = cli("--json", "user", "role", bob["id"], "viewer")
    assert json.loads(by_id.stdout)["role"] == "viewer"


def test_user_role_refuses_an_unknown_role_and_user(fake: FakeApi, cli: Invoke) -> None:
    assert cli("user", "role", "ada@example.com", "king").exit_code == 2
    result = cli("user", "role", "nobody@example.com", "admin")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no member of workspace default has the id or e-mail 'nobody@example.com'"
    )
    assert fake.mutations() == []


def test_user_remove_needs_yes_without_a_terminal(fake: FakeApi, cli: Invoke) -> None:
    bob = fake.identity.add_user("bob@example.com", "Bob")
    refused = cli("user", "remove", "bob@example.com")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert fake.mutations() == []
    result = cli("user", "remove", "bob@example.com", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"removed bob@example.com ({bob['id']}) from workspace default"
    assert bob["id"] not in fake.identity.members["default"]


@pytest.mark.parametrize(("answer", "removed"), [("y\n", True), ("\n", False)])
def test_user_remove_asks_on_a_terminal(
    fake: FakeApi, cli: Invoke, monkeypatch: pytest.MonkeyPatch, answer: str, removed: bool
) -> None:
    monkeypatch.setattr(prompts, "stdin_is_terminal", lambda: True)
    bob = fake.identity.add_user("bob@example.com", "Bob")
    result = cli("user", "remove", bob["id"], input=answer)
    assert "Remove bob@example.com" in result.stdout
    assert (bob["id"] not in fake.identity.members["default"]) is removed
    assert result.exit_code == (0 if removed else 1)


# ------------------------------------------------------------------ API keys


def test_apikey_create_shows_the_key_once_alone_on_stdout(fake: FakeApi, cli: Invoke) -> None:
    result = cli("apikey", "create", "ci", "--role", "viewer", "--expires-in-days", "30")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("sy_")
    assert fake.identity.principals[key]["role"] == "viewer"
    assert fake.sent("POST", "/api/v1/api-keys")[0].body == {
        "name": "ci",
        "role": "viewer",
        "expires_in_days": 30,
    }
    assert "only time the key is shown" in result.stderr
    assert "created API key ci" in result.stderr
    listed = cli("apikey", "list")
    assert key not in listed.stdout
    assert all(
        "key" not in item for item in json.loads(cli("--json", "apikey", "list").stdout)["items"]
    )


def test_apikey_create_json_prints_the_body(fake: FakeApi, cli: Invoke) -> None:
    result = cli("--json", "apikey", "create", "ci")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["name"] == "ci"
    assert body["role"] == "member"
    assert body["key"] in fake.identity.principals
    assert result.stderr == ""


def test_apikey_list_shows_each_key_state(fake: FakeApi, cli: Invoke) -> None:
    fake.identity.add_key("ci")
    result = cli("apikey", "list")
    assert result.exit_code == 0, result.output
    header, owner, ci = result.stdout.splitlines()
    assert columns(header)[:5] == ["NAME", "ID", "ROLE", "STATE", "CREATED"]
    assert columns(owner)[:4] == ["owner", "key-1", "owner", "active"]
    assert columns(ci)[3] == "active"
    terminal = cli("apikey", "list", env=TERMINAL)
    assert "\x1b[" in terminal.stdout


def test_apikey_revoke_then_the_key_is_refused(fake: FakeApi, cli: Invoke) -> None:
    bearer = fake.identity.add_key("ci")
    key_id = fake.identity.principals[bearer]["id"]
    assert cli("apikey", "revoke", key_id).exit_code == 2  # no terminal, no --yes
    result = cli("apikey", "revoke", key_id, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"revoked API key {key_id}"
    assert len(fake.sent("DELETE", f"/api/v1/api-keys/{key_id}")) == 1
    listed = cli("apikey", "list").stdout.splitlines()
    assert columns(listed[2])[3] == "revoked"
    refused = cli("--api-key", bearer, "project", "list")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1] == "  run swarmyard login, or pass --api-key"


# ------------------------------------------------------------------ audit


def seed_audit(fake: FakeApi, n: int) -> None:
    for i in range(n):
        fake.identity.audit.append(
            {
                "id": f"aud-{i}",
                "actor": "user:usr-1" if i % 2 == 0 else "api_key:key-1",
                "action": "task.create" if i % 2 == 0 else "auth.login",
                "resource": f"task:tsk-{i}",
                "result": "success" if i != 1 else "denied",
                "at": "2025-03-01T10:00:00+00:00",
                "ip": "127.0.0.1",
                "details": {},
            }
        )


def test_audit_is_a_table_and_passes_its_filters(fake: FakeApi, cli: Invoke) -> None:
    seed_audit(fake, 5)
    result = cli("audit", "--actor", "user:usr-1", "--action", "task.create", "--limit", "2")
    assert result.exit_code == 0, result.output
    query = fake.sent("GET", "/api/v1/audit")[0].query
    assert query == {"actor": "user:usr-1", "action": "task.create", "limit": "2"}
    header, *rows = result.stdout.splitlines()
    assert columns(header) == ["AT", "ACTOR", "ACTION", "RESOURCE", "RESULT", "IP", "DETAILS"]
    assert [columns(r)[2:5] for r in rows] == [
        ["user:usr-1", "task.create", "task:tsk-0"],
        ["user:usr-1", "task.create", "task:tsk-2"],
    ]
    assert result.stderr.strip() == "more entries: add --cursor 2"


def test_audit_since_is_sent_as_a_timestamp(fake: FakeApi, cli: Invoke) -> None:
    assert cli("audit", "--since", "2025-02-01T09:30:00+00:00").exit_code == 0
    assert fake.sent("GET", "/api/v1/audit")[0].query["since"] == "2025-02-01T09:30:00+00:00"
    bad = cli("audit", "--since", "whenever")
    assert bad.exit_code == 2


def test_audit_json_and_empty(fake: FakeApi, cli: Invoke) -> None:
    assert cli("audit").stdout.strip() == "no audit entries"
    seed_audit(fake, 2)
    body = json.loads(cli("--json", "audit").stdout)
    assert [e["result"] for e in body["items"]] == ["success", "denied"]
    assert body["next_cursor"] is None


# ------------------------------------------------------------------ workspaces


def test_workspace_create_and_list(fake: FakeApi, cli: Invoke) -> None:
    result = cli("workspace", "create", "acme", "--name", "Acme Corp")
    assert result.exit_code == 0, result.output
    assert fake.sent("POST", "/api/v1/workspaces")[0].body == {"id": "acme", "name": "Acme Corp"}
    assert result.stdout.strip() == (
        "created workspace acme (Acme Corp); act in it with --workspace acme"
    )
    listed = cli("workspace", "list")
    header, *rows = listed.stdout.splitlines()
    assert columns(header) == ["ID", "NAME", "ROLE", "CREATED"]
    assert [columns(r)[0] for r in rows] == ["default", "acme"]
    body = json.loads(cli("--json", "workspace", "create", "globex").stdout)
    assert (body["id"], body["name"], body["role"]) == ("globex", "globex", "owner")
