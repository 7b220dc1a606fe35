"""Ports for credentials: password hashing and access-token signing."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["InvalidToken", "PasswordHasher", "TokenSigner"]


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
