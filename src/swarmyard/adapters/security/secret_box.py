"""The secret box: provider API keys encrypted at rest (Fernet: AES-128-CBC
with an HMAC-SHA256 tag, from the `cryptography` package).

Its key is derived (HKDF-SHA256) from the platform secret — the
``SWARMYARD_SECRET_KEY`` value, or the key file generated once in the data
directory with mode 0600 — under its own label, so the token-signing key and
the encryption key are never the same bytes. Every process of a cluster
shares the secret and therefore opens what any other sealed.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...ports import SecretUnreadable

__all__ = ["FernetSecretBox"]

_LABEL = b"swarmyard provider keys v1"


class FernetSecretBox:
    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the secret box needs a non-empty secret")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError):
            raise SecretUnreadable(
                "a stored key cannot be opened: it was sealed under another secret "
                "(was SWARMYARD_SECRET_KEY or the data directory's secret.key changed?)"
            ) from None
