"""Credentials: password hashing (argon2id), access-token signing (JWT) and
the secret box for stored provider keys."""

from .passwords import Argon2Hasher
from .secret_box import FernetSecretBox
from .tokens import JwtSigner, load_or_create_secret

__all__ = ["Argon2Hasher", "FernetSecretBox", "JwtSigner", "load_or_create_secret"]
