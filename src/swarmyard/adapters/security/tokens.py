"""Access tokens: HS256 JWTs with the algorithm, audience and issuer pinned.

The algorithm list given to `decode` is fixed, so a token claiming
``alg: none`` or an asymmetric algorithm is refused whatever its header
says. The signing key comes from ``SWARMYARD_SECRET_KEY`` or, embedded, from
a key file created once in the data directory with mode 0600; every process
of a cluster must share it.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from ...ports import InvalidToken

__all__ = ["AUDIENCE", "ISSUER", "JwtSigner", "load_or_create_secret"]

ISSUER = "swarmyard"
AUDIENCE = "swarmyard-api"
_ALGORITHM = "HS256"


class JwtSigner:
    def __init__(self, secret: bytes, *, leeway_seconds: int = 0) -> None:
        if len(secret) < 32:
            raise ValueError("the token signing key must be at least 32 bytes")
        self._secret = secret
        self._leeway = leeway_seconds

    def sign(self, claims: dict[str, Any], ttl_seconds: int) -> str:
        now = int(time.time())
        body = {**claims, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl_seconds}
        return jwt.encode(body, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        return claims


def load_or_create_secret(env_value: str, key_file: Path) -> bytes:
    """The signing key: from the environment, else from (or into) `key_file`."""
    if env_value:
        return env_value.encode()
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return value
