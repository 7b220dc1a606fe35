"""Credentials: password hashing (argon2id) and access-token signing (JWT)."""

from .passwords import Argon2Hasher
from .tokens import JwtSigner, load_or_create_secret

__all__ = ["Argon2Hasher", "JwtSigner", "load_or_create_secret"]
