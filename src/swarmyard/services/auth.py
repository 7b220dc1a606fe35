"""Signing in and checking credentials.

Two kinds of bearer credential reach the API: short-lived access tokens
(JWT, 15 minutes) issued to people who signed in with a password, and API
keys (``sy_<id>_<secret>``) issued to scripts and the CLI. Either becomes a
`Principal`: an identity acting in one workspace with one role.

Refresh tokens (``srt_<id>_<secret>``, 7 days) are single use: each refresh
spends the presented token and issues the next of the same family. A spent
token presented again means two parties hold it — the family is revoked and
both must sign in again.

Secrets are stored as SHA-256 digests (they carry 256 random bits; a slow
hash adds nothing) and compared in constant time. Passwords use argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..domain import (
    DomainError,
    Membership,
    NotFound,
    Principal,
    RefreshToken,
    Role,
)
from ..ports import InvalidToken, PasswordHasher, TokenSigner
from .audit import record_audit
from .deps import Deps

__all__ = [
    "ACCESS_TTL",
    "REFRESH_TTL",
    "AuthService",
    "NotAuthenticated",
    "TokenPair",
    "digest",
    "new_secret",
]

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
KEY_PREFIX = "sy_"
REFRESH_PREFIX = "srt_"


class NotAuthenticated(DomainError):
    """Missing, malformed, expired, revoked or wrong credentials (always 401)."""

    code = "not_authenticated"
    status = 401


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def split_credential(value: str, prefix: str) -> tuple[str, str] | None:
    """``<prefix><id>_<secret>`` → (id, secret); ids contain one underscore
    (``key_01…``), so the secret starts after the second one."""
    if not value.startswith(prefix):
        return None
    rest = value[len(prefix) :]
    kind, sep1, tail = rest.partition("_")
    ident_tail, sep2, secret = tail.partition("_")
    if not (sep1 and sep2 and kind and ident_tail and secret):
        return None
    return f"{kind}_{ident_tail}", secret


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    workspace_id: str
    role: Role

    def as_dict(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "workspace_id": self.workspace_id,
            "role": self.role.value,
        }


_WRONG = "wrong e-mail address or password"


class AuthService:
    def __init__(self, deps: Deps, hasher: PasswordHasher, signer: TokenSigner) -> None:
        self._d = deps
        self._hasher = hasher
        self._signer = signer

    # ------------------------------------------------------------------ sign-in

    async def sign_in(
        self, email: str, password: str, workspace_id: str | None, ip: str | None
    ) -> TokenPair:
        async with self._d.store.identity() as idn:
            user = await idn.users.by_email(email.strip().lower())
            memberships = await idn.memberships_of(user.id) if user else []
        ok = bool(user and not user.disabled and self._hasher.verify(user.password_hash, password))
        membership = _pick(memberships, workspace_id)
        if not ok or user is None or membership is None:
            for m in memberships if user else []:
                await self._audit_auth(
                    m.workspace_id, f"user:{user.id}" if user else "", "auth.sign_in", "failed", ip
                )
            if ok and membership is None:
                raise NotAuthenticated(f"you are not a member of workspace {workspace_id!r}")
            raise NotAuthenticated(_WRONG)
        pair = await self._issue(user.id, membership, family_id=self._d.ids.new("fam"))
        await self._audit_auth(membership.workspace_id, f"user:{user.id}", "auth.sign_in", "ok", ip)
        return pair

    async def refresh(self, token: str, ip: str | None) -> TokenPair:
        parts = split_credential(token, REFRESH_PREFIX)
        if parts is None:
            raise NotAuthenticated("malformed refresh token")
        token_id, secret = parts
        now = self._d.clock.now()
        async with self._d.store.identity() as idn:
            stored = await idn.refresh_tokens.get(token_id)
            if stored is None or not _same(stored.token_hash, digest(secret)):
                raise NotAuthenticated("unknown refresh token")
            reused = stored.used_at is not None or stored.revoked_at is not None
            if reused:
                # Presented twice: whoever else holds it must not keep a session.
                await idn.refresh_tokens.revoke_family(stored.family_id, now)
                await idn.commit()
            elif now >= stored.expires_at:
                raise NotAuthenticated("refresh token expired; sign in again")
            else:
                stored.used_at = now
                await idn.refresh_tokens.update(stored)
                memberships = await idn.memberships_of(stored.user_id)
                user = await idn.users.get(stored.user_id)
                await idn.commit()
        if reused:
            if stored.workspace_id:
                await self._audit_auth(
                    stored.workspace_id,
                    f"user:{stored.user_id}",
                    "auth.refresh_reused",
                    "denied",
                    ip,
                )
            raise NotAuthenticated("refresh token already used; the session is revoked")
        membership = _pick(memberships, stored.workspace_id)
        if membership is None or user.disabled:
            raise NotAuthenticated("no longer a member of this workspace")
        return await self._issue(stored.user_id, membership, family_id=stored.family_id)

    async def logout(self, token: str) -> None:
        parts = split_credential(token, REFRESH_PREFIX)
        if parts is None:
            raise NotAuthenticated("malformed refresh token")
        async with self._d.store.identity() as idn:
            stored = await idn.refresh_tokens.get(parts[0])
            if stored is None or not _same(stored.token_hash, digest(parts[1])):
                raise NotAuthenticated("unknown refresh token")
            await idn.refresh_tokens.revoke_family(stored.family_id, self._d.clock.now())
            await idn.commit()

    async def _issue(self, user_id: str, membership: Membership, *, family_id: str) -> TokenPair:
        now = self._d.clock.now()
        secret = new_secret()
        token = RefreshToken(
            id=self._d.ids.new("rt"),
            user_id=user_id,
            family_id=family_id,
            token_hash=digest(secret),
            created_at=now,
            expires_at=now + REFRESH_TTL,
            workspace_id=membership.workspace_id,
        )
        async with self._d.store.identity() as idn:
            await idn.refresh_tokens.add(token)
            await idn.commit()
        access = self._signer.sign(
            {"sub": user_id, "ws": membership.workspace_id, "jti": self._d.ids.new("jti")},
            int(ACCESS_TTL.total_seconds()),
        )
        return TokenPair(
            access,
            f"{REFRESH_PREFIX}{token.id}_{secret}",
            int(ACCESS_TTL.total_seconds()),
            membership.workspace_id,
            membership.role,
        )

    async def _audit_auth(
        self, workspace_id: str, actor: str, action: str, result: str, ip: str | None
    ) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await record_audit(
                uow,
                self._d,
                actor=actor or "anonymous",
                action=action,
                resource=f"workspace:{workspace_id}",
                result=result,
                ip=ip,
            )
            await uow.commit()

    # ------------------------------------------------------------------ checking

    async def authenticate(self, bearer: str, workspace_id: str | None) -> Principal:
        """The principal behind an ``Authorization: Bearer`` value.

        An API key carries its workspace; a person's token acts in the
        workspace named by `workspace_id` (the request's header) or the one
        they signed in to."""
        if bearer.startswith(KEY_PREFIX):
            return await self._key_principal(bearer, workspace_id)
        try:
            claims = self._signer.verify(bearer)
        except InvalidToken as exc:
            raise NotAuthenticated(f"invalid access token: {exc}") from None
        user_id, ws = str(claims["sub"]), workspace_id or str(claims.get("ws") or "")
        async with self._d.store.identity() as idn:
            try:
                user = await idn.users.get(user_id)
            except NotFound:
                raise NotAuthenticated("the token's user no longer exists") from None
            memberships = await idn.memberships_of(user_id)
        membership = _pick(memberships, ws)
        if user.disabled:
            raise NotAuthenticated("this user is disabled")
        if membership is None:
            raise NotFound("workspace", ws)
        return Principal("user", user.id, membership.workspace_id, membership.role, user.name)

    async def _key_principal(self, bearer: str, workspace_id: str | None) -> Principal:
        parts = split_credential(bearer, KEY_PREFIX)
        if parts is None:
            raise NotAuthenticated("malformed API key")
        key_id, secret = parts
        now = self._d.clock.now()
        async with self._d.store.identity() as idn:
            key = await idn.api_key(key_id)
            if key is None or not _same(key.secret_hash, digest(secret)):
                raise NotAuthenticated("unknown API key")
            if not key.usable(now):
                raise NotAuthenticated("this API key was revoked or has expired")
            if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
                await idn.touch_api_key(key.id, now)  # at most once a minute per key
                await idn.commit()
        if workspace_id and workspace_id != key.workspace_id:
            raise NotFound("workspace", workspace_id)
        return Principal("api_key", key.id, key.workspace_id, key.role, key.name)

    async def still_valid(self, principal: Principal) -> bool:
        """Whether the credential behind a long-lived stream still stands."""
        if principal.kind != "api_key":
            return True  # access tokens expire on their own within 15 minutes
        async with self._d.store.identity() as idn:
            key = await idn.api_key(principal.id)
        return key is not None and key.usable(self._d.clock.now())


def _pick(memberships: list[Membership], workspace_id: str | None) -> Membership | None:
    if workspace_id:
        return next((m for m in memberships if m.workspace_id == workspace_id), None)
    return min(memberships, key=lambda m: (-m.role.rank, m.workspace_id), default=None)
