"""Workspaces, their members and their API keys.

Every method takes the acting `Principal`; what it may do was checked by
the API's authorization step, so the checks here are the ones only the data
can answer (no one grants a role above their own, the last owner stays).
"""

from __future__ import annotations

import builtins
import re
from datetime import timedelta

from ..domain import (
    DEFAULT_WORKSPACE,
    ApiKey,
    Conflict,
    Membership,
    NotFound,
    Principal,
    Problem,
    Role,
    User,
    ValidationFailed,
    Workspace,
)
from ..ports import IdempotentResponse, PasswordHasher, UnitOfWork
from .audit import record_audit
from .auth import KEY_PREFIX, digest, new_secret
from .deps import Deps

__all__ = ["MIN_PASSWORD", "IdentityService"]

MIN_PASSWORD = 10
# Taken with the first owner key: of API processes starting together, one makes it.
_FIRST_KEY_MARKER = "swarmyard:first-owner-key"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WORKSPACE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _role(value: str, path: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed(
            "request",
            [Problem(path, f"{value!r} is not one of: {', '.join(r.value for r in Role)}")],
        ) from None


def _not_above(principal: Principal, role: Role) -> None:
    if role.rank > principal.role.rank:
        raise ValidationFailed(
            "request", [Problem("role", f"you ({principal.role.value}) cannot grant {role.value}")]
        )


class IdentityService:
    def __init__(self, deps: Deps, hasher: PasswordHasher) -> None:
        self._d = deps
        self._hasher = hasher

    # ------------------------------------------------------------------ users

    async def create_user(self, email: str, name: str, password: str) -> User:
        problems = []
        if not _EMAIL.match(email.strip()):
            problems.append(Problem("email", "is not an e-mail address"))
        if len(password) < MIN_PASSWORD:
            problems.append(Problem("password", f"must be at least {MIN_PASSWORD} characters"))
        if problems:
            raise ValidationFailed("user", problems)
        user = User(
            self._d.ids.new("user"),
            email.strip().lower(),
            name.strip() or email,
            self._hasher.hash(password),
            self._d.clock.now(),
        )
        async with self._d.store.identity() as idn:
            await idn.users.add(user)
            await idn.commit()
        return user

    # ------------------------------------------------------------------ workspaces

    async def workspaces_of(self, principal: Principal) -> builtins.list[tuple[Workspace, Role]]:
        if principal.kind == "api_key":
            ws = await self._d.store.get_workspace(principal.workspace_id)
            return [(ws, principal.role)]
        async with self._d.store.identity() as idn:
            memberships = await idn.memberships_of(principal.id)
        return [
            (await self._d.store.get_workspace(m.workspace_id), m.role)
            for m in sorted(memberships, key=lambda m: m.workspace_id)
        ]

    async def create_workspace(
        self, principal: Principal, workspace_id: str, name: str
    ) -> Workspace:
        if principal.kind != "user":
            raise ValidationFailed(
                "workspace",
                [Problem("", "workspaces are created by people (sign in), not by API keys")],
            )
        if not _WORKSPACE_ID.match(workspace_id):
            raise ValidationFailed(
                "workspace", [Problem("id", "2-63 characters: lower-case letters, digits and '-'")]
            )
        now = self._d.clock.now()
        ws = Workspace(workspace_id, name.strip() or workspace_id, now)
        await self._d.store.add_workspace(ws)
        async with self._d.store.unit_of_work(ws.id) as uow:
            await uow.members.add(Membership(ws.id, principal.id, Role.OWNER, now))
            await record_audit(
                uow,
                self._d,
                actor=principal.actor,
                action="workspace.create",
                resource=f"workspace:{ws.id}",
            )
            await uow.commit()
        return ws

    # ------------------------------------------------------------------ members

    async def members(self, workspace_id: str) -> builtins.list[tuple[Membership, User]]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            memberships = await uow.members.list()
        async with self._d.store.identity() as idn:
            return [(m, await idn.users.get(m.user_id)) for m in memberships]

    async def add_member(
        self,
        principal: Principal,
        *,
        email: str,
        role: str,
        name: str = "",
        password: str | None = None,
    ) -> Membership:
        wanted = _role(role)
        _not_above(principal, wanted)
        async with self._d.store.identity() as idn:
            user = await idn.users.by_email(email.strip().lower())
        if user is None:
            if password is None:
                raise NotFound("user", email)
            user = await self.create_user(email, name, password)
        membership = Membership(principal.workspace_id, user.id, wanted, self._d.clock.now())
        async with self._d.store.unit_of_work(principal.workspace_id) as uow:
            await uow.members.add(membership)
            await record_audit(
                uow,
                self._d,
                actor=principal.actor,
                action="member.add",
                resource=f"user:{user.id}",
                details={"role": wanted.value},
            )
            await uow.commit()
        return membership

    async def set_role(self, principal: Principal, user_id: str, role: str) -> Membership:
        wanted = _role(role)
        _not_above(principal, wanted)
        async with self._d.store.unit_of_work(principal.workspace_id) as uow:
            membership = await uow.members.get(user_id)
            await self._keep_an_owner(uow, membership, wanted)
            membership.role = wanted
            await uow.members.update(membership)
            await record_audit(
                uow,
                self._d,
                actor=principal.actor,
                action="member.role",
                resource=f"user:{user_id}",
                details={"role": wanted.value},
            )
            await uow.commit()
        return membership

    async def remove_member(self, principal: Principal, user_id: str) -> None:
        async with self._d.store.unit_of_work(principal.workspace_id) as uow:
            membership = await uow.members.get(user_id)
            await self._keep_an_owner(uow, membership, None)
            await uow.members.delete(user_id)
            await record_audit(
                uow,
                self._d,
                actor=principal.actor,
                action="member.remove",
                resource=f"user:{user_id}",
            )
            await uow.commit()

    async def _keep_an_owner(
        self, uow: UnitOfWork, membership: Membership, new_role: Role | None
    ) -> None:
        if membership.role is not Role.OWNER or new_role is Role.OWNER:
            return
        owners = [m for m in await uow.members.list() if m.role is Role.OWNER]
        if len(owners) <= 1:
            raise Conflict("a workspace keeps at least one owner; make someone else owner first")

    # ------------------------------------------------------------------ API keys

    async def create_key(
        self, principal: Principal, *, name: str, role: str, expires_in_days: int | None = None
    ) -> tuple[ApiKey, str]:
        async with self._d.store.unit_of_work(principal.workspace_id) as uow:
            made = await self._add_key(uow, principal, name, role, expires_in_days)
            await uow.commit()
        return made

    async def _add_key(
        self,
        uow: UnitOfWork,
        principal: Principal,
        name: str,
        role: str,
        expires_in_days: int | None = None,
    ) -> tuple[ApiKey, str]:
        wanted = _role(role)
        _not_above(principal, wanted)
        if not name.strip():
            raise ValidationFailed("api key", [Problem("name", "must not be empty")])
        now = self._d.clock.now()
        secret = new_secret()
        key = ApiKey(
            id=self._d.ids.new("key"),
            workspace_id=principal.workspace_id,
            name=name.strip(),
            role=wanted,
            secret_hash=digest(secret),
            created_at=now,
            created_by=principal.actor,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        await uow.api_keys.add(key)
        await record_audit(
            uow,
            self._d,
            actor=principal.actor,
            action="apikey.create",
            resource=f"api_key:{key.id}",
            details={"role": wanted.value, "name": key.name},
        )
        return key, f"{KEY_PREFIX}{key.id}_{secret}"

    async def keys(self, workspace_id: str) -> builtins.list[ApiKey]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.api_keys.list()

    async def revoke_key(self, principal: Principal, key_id: str) -> ApiKey:
        async with self._d.store.unit_of_work(principal.workspace_id) as uow:
            key = await uow.api_keys.get(key_id)
            if key.revoked_at is None:
                key.revoked_at = self._d.clock.now()
                await uow.api_keys.update(key)
                await record_audit(
                    uow,
                    self._d,
                    actor=principal.actor,
                    action="apikey.revoke",
                    resource=f"api_key:{key.id}",
                )
                await uow.commit()
        return key

    async def bootstrap_owner_key(self) -> tuple[ApiKey, str] | None:
        """On the very first start: the default workspace's owner key, or None
        when the workspace already has keys — or another API process, starting
        at the same moment, is making it (a marker row taken in the same
        transaction lets one of them through)."""
        system = Principal("system", "bootstrap", DEFAULT_WORKSPACE, Role.OWNER, "first start")
        async with self._d.store.unit_of_work(DEFAULT_WORKSPACE) as uow:
            if await uow.api_keys.list():
                return None
            marker = IdempotentResponse(_FIRST_KEY_MARKER, "", 201, b"", self._d.clock.now())
            try:
                await uow.idempotency.put(marker)
            except Conflict:
                return None
            made = await self._add_key(uow, system, "owner (first start)", "owner")
            await uow.commit()
        return made
