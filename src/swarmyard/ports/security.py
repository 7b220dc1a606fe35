"""Ports for credentials: password hashing, access-token signing, and the
secret box that encrypts stored provider keys."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["InvalidToken", "PasswordHasher", "SecretBox", "SecretUnreadable", "TokenSigner"]


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password (never raises for one)."""
        ...


class InvalidToken(Exception):
    """A token is malformed, tampered with, expired or not meant for us."""


class TokenSigner(Protocol):
    """Signs and checks access tokens (JWT with a pinned algorithm, audience
    and issuer)."""

    def sign(self, claims: dict[str, Any], ttl_seconds: int) -> str: ...
    def verify(self, token: str) -> dict[str, Any]:
        """The claims; raises InvalidToken."""
        ...


class SecretUnreadable(Exception):
    """A sealed secret cannot be opened: it was sealed under another key or altered."""


class SecretBox(Protocol):
    """Authenticated encryption of secrets kept in the database (provider API
    keys), under a key that never enters the database."""

    def seal(self, plaintext: str) -> str: ...
    def open(self, sealed: str) -> str:
        """Raises SecretUnreadable."""
        ...
