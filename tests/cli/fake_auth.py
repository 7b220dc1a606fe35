"""The identity half of the fake server: credentials, sessions, members, keys, audit.

Like the real server, the fake refuses every ``/api/v1`` request without a
bearer it knows (a 401 error body), except the three sign-in endpoints.
It knows the owner key of the credentials file the fixtures write, the keys
and tokens it issued since, and nothing else. A viewer may read but not
change anything (403), which is how tests see refusals. Refresh tokens are
single-use: one presented twice revokes the session, as on the server.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from conftest import FakeApi

Json = dict[str, Any]
NOW = "2025-03-01T10:00:00+00:00"
V1 = "/api/v1"
OWNER_KEY = "sy_key-1_ownersecret"
PASSWORD = "correct horse"
PUBLIC = {f"{V1}/auth/token", f"{V1}/auth/refresh", f"{V1}/auth/logout"}
ACCESS_TTL = 900


def write_credentials(data_dir: Path, **fields: Any) -> Path:
    """``<data_dir>/credentials.json`` as the server writes it on its first start."""
    data_dir.mkdir(parents=True, exist_ok=True)
    body = {"workspace": "default", "api_key": OWNER_KEY, "key_id": "key-1", "role": "owner"}
    path = data_dir / "credentials.json"
    path.write_text(json.dumps(body | fields))
    path.chmod(0o600)
    return path


def error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status
    )


def refused(message: str) -> JSONResponse:
    return error(401, "not_authenticated", message)


class FakeIdentity:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        # bearer -> who it is: {kind, id, name, workspace_id, role}
        self.principals: dict[str, Json] = {
            OWNER_KEY: {
                "kind": "api_key",
                "id": "key-1",
                "name": "owner",
                "workspace_id": "default",
                "role": "owner",
            }
        }
        self.keys: dict[str, Json] = {"key-1": self._key_view("key-1", "owner", "owner")}
        self.users: dict[str, Json] = {}
        self.members: dict[str, dict[str, Json]] = {}
        self.workspaces: dict[str, Json] = {}
        self.refresh_tokens: dict[str, Json] = {}
        self.audit: list[Json] = []
        self.add_workspace("default", "Default")
        self.ada = self.add_user("ada@example.com", "Ada", role="owner")

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    # -- seeding helpers used by tests -------------------------------------------
    def add_workspace(self, ident: str, name: str) -> Json:
        self.workspaces[ident] = {"id": ident, "name": name, "created_at": NOW}
        self.members.setdefault(ident, {})
        return self.workspaces[ident]

    def add_user(
        self, email: str, name: str, *, role: str = "member", workspace: str = "default"
    ) -> Json:
        user = {"id": self.new_id("usr"), "email": email, "name": name, "password": PASSWORD}
        self.users[user["id"]] = user
        self.members[workspace][user["id"]] = {"role": role, "created_at": NOW}
        return user

    def add_key(self, name: str, role: str = "member") -> str:
        """A new API key of the default workspace; its bearer."""
        ident = self.new_id("key")
        bearer = f"sy_{ident}_secret"
        self.keys[ident] = self._key_view(ident, name, role)
        self.principals[bearer] = {
            "kind": "api_key",
            "id": ident,
            "name": name,
            "workspace_id": "default",
            "role": role,
        }
        return bearer

    def expire_access_tokens(self) -> None:
        """What the server does to access tokens after their fifteen minutes."""
        for bearer in [b for b, p in self.principals.items() if p["kind"] == "user"]:
            del self.principals[bearer]

    def member_view(self, workspace: str, user_id: str) -> Json:
        user, membership = self.users[user_id], self.members[workspace][user_id]
        return {
            "user_id": user_id,
            "email": user["email"],
            "name": user["name"],
            "role": membership["role"],
            "created_at": membership["created_at"],
        }

    def issue(self, user_id: str, workspace: str) -> Json:
        access, refresh = self.new_id("at"), self.new_id("rt")
        role = self.members[workspace][user_id]["role"]
        self.principals[access] = {
            "kind": "user",
            "id": user_id,
            "name": self.users[user_id]["name"],
            "workspace_id": workspace,
            "role": role,
        }
        self.refresh_tokens[refresh] = {"user_id": user_id, "workspace": workspace, "used": False}
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "workspace_id": workspace,
            "role": role,
        }

    def _key_view(self, ident: str, name: str, role: str) -> Json:
        return {
            "id": ident,
            "name": name,
            "role": role,
            "created_by": "user:usr-1",
            "created_at": NOW,
            "expires_at": None,
            "revoked_at": None,
            "last_used_at": None,
        }

    # -- the gate in front of every route ---------------------------------------
    def gate(self, request: Request) -> Response | None:
        """None to let the request through, else the refusal to answer with."""
        path = request.url.path
        if not path.startswith(V1) or path in PUBLIC:
            return None
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not bearer:
            return refused(
                "send 'Authorization: Bearer <access token or API key>' "
                "(sign in at POST /api/v1/auth/token)"
            )
        principal = self.principals.get(bearer)
        if principal is None:
            return refused("unknown API key" if bearer.startswith("sy_") else "invalid token")
        request.state.principal = principal
        if principal["role"] == "viewer" and request.method != "GET":
            action = _action(request.method, path)
            return error(
                403,
                "forbidden",
                f"your role (viewer) may not {action}",
                {"action": action, "role": "viewer"},
            )
        return None


def _action(method: str, path: str) -> str:
    noun = path.removeprefix(V1 + "/").split("/")[0].rstrip("s")
    verb = {"POST": "create", "PATCH": "update", "DELETE": "delete"}.get(method, "read")
    return f"{noun}.{verb}"


# ------------------------------------------------------------------------ routes


async def token(api: FakeApi, request: Request, body: Any) -> Response:
    ident = api.identity
    found = [u for u in ident.users.values() if u["email"] == body.get("email")]
    if not found or found[0]["password"] != body.get("password"):
        return refused("wrong e-mail address or password")
    workspace = body.get("workspace") or "default"
    if found[0]["id"] not in ident.members.get(workspace, {}):
        return error(404, "not_found", f"workspace {workspace!r} not found")
    return JSONResponse(ident.issue(found[0]["id"], workspace))


async def refresh(api: FakeApi, request: Request, body: Any) -> Response:
    stored = api.identity.refresh_tokens.get(body.get("refresh_token"))
    if stored is None:
        return refused("unknown refresh token")
    if stored["used"]:
        return refused("refresh token already used; the session is revoked")
    stored["used"] = True
    return JSONResponse(api.identity.issue(stored["user_id"], stored["workspace"]))


async def logout(api: FakeApi, request: Request, body: Any) -> Response:
    if api.identity.refresh_tokens.pop(body.get("refresh_token"), None) is None:
        return refused("unknown refresh token")
    return Response(status_code=204)


async def me(api: FakeApi, request: Request, body: Any) -> Response:
    principal = request.state.principal
    ident = api.identity
    if principal["kind"] == "user":
        workspaces = [
            {"id": ws, "name": ident.workspaces[ws]["name"], "role": m[principal["id"]]["role"]}
            for ws, m in ident.members.items()
            if principal["id"] in m
        ]
    else:
        ws = principal["workspace_id"]
        workspaces = [{"id": ws, "name": ident.workspaces[ws]["name"], "role": principal["role"]}]
    return JSONResponse({"principal": principal, "workspaces": workspaces})


async def workspaces(api: FakeApi, request: Request, body: Any) -> Response:
    ident = api.identity
    if request.method == "POST":
        created = ident.add_workspace(body["id"], body.get("name") or body["id"])
        return JSONResponse(created | {"role": "owner"}, status_code=201)
    items = [w | {"role": "owner"} for w in ident.workspaces.values()]
    return JSONResponse({"items": items, "next_cursor": None})


async def members(api: FakeApi, request: Request, body: Any) -> Response:
    ident = api.identity
    ws = request.path_params["ws"]
    if ws not in ident.members:
        return error(404, "not_found", f"workspace {ws!r} not found")
    if request.method == "GET":
        items = [ident.member_view(ws, user_id) for user_id in ident.members[ws]]
        return JSONResponse({"items": items, "next_cursor": None})
    existing = [u for u in ident.users.values() if u["email"] == body["email"]]
    if existing:
        user = existing[0]
        ident.members[ws][user["id"]] = {"role": body.get("role", "member"), "created_at": NOW}
    else:
        user = ident.add_user(
            body["email"], body.get("name", ""), role=body.get("role", "member"), workspace=ws
        )
        user["password"] = body.get("password")
    return JSONResponse(ident.member_view(ws, user["id"]), status_code=201)


async def member(api: FakeApi, request: Request, body: Any) -> Response:
    ident = api.identity
    ws, user_id = request.path_params["ws"], request.path_params["user_id"]
    if user_id not in ident.members.get(ws, {}):
        return error(404, "not_found", f"member {user_id!r} not found")
    if request.method == "DELETE":
        del ident.members[ws][user_id]
        return Response(status_code=204)
    ident.members[ws][user_id]["role"] = body["role"]
    return JSONResponse(ident.member_view(ws, user_id))


async def api_keys(api: FakeApi, request: Request, body: Any) -> Response:
    ident = api.identity
    if request.method == "GET":
        return JSONResponse({"items": list(ident.keys.values()), "next_cursor": None})
    bearer = ident.add_key(body["name"], body.get("role", "member"))
    created = ident.keys[ident.principals[bearer]["id"]]
    if body.get("expires_in_days"):
        created["expires_at"] = "2025-04-01T10:00:00+00:00"
    return JSONResponse(created | {"key": bearer}, status_code=201)


async def api_key(api: FakeApi, request: Request, body: Any) -> Response:
    ident = api.identity
    key_id = request.path_params["ident"]
    if key_id not in ident.keys:
        return error(404, "not_found", f"api key {key_id!r} not found")
    ident.keys[key_id]["revoked_at"] = NOW
    for bearer in [b for b, p in ident.principals.items() if p["id"] == key_id]:
        del ident.principals[bearer]
    return Response(status_code=204)


async def audit(api: FakeApi, request: Request, body: Any) -> Response:
    q = request.query_params
    items = [
        e
        for e in api.identity.audit
        if all(e[name] == q[name] for name in ("actor", "action") if name in q)
    ]
    start = int(q.get("cursor") or 0)
    size = int(q.get("limit") or 50)
    more = start + size < len(items)
    return JSONResponse(
        {"items": items[start : start + size], "next_cursor": str(start + size) if more else None}
    )


ROUTES = [
    (f"{V1}/auth/token", token, ["POST"]),
    (f"{V1}/auth/refresh", refresh, ["POST"]),
    (f"{V1}/auth/logout", logout, ["POST"]),
    (f"{V1}/auth/me", me, ["GET"]),
    (f"{V1}/workspaces", workspaces, ["GET", "POST"]),
    (f"{V1}/workspaces/{{ws}}/members", members, ["GET", "POST"]),
    (f"{V1}/workspaces/{{ws}}/members/{{user_id}}", member, ["PATCH", "DELETE"]),
    (f"{V1}/api-keys", api_keys, ["GET", "POST"]),
    (f"{V1}/api-keys/{{ident}}", api_key, ["DELETE"]),
    (f"{V1}/audit", audit, ["GET"]),
]
