"""What the client sends in ``Authorization``, and how a session renews itself.

An API key is sent as it is. A session's access token lives minutes, so
`SignedIn` renews it through ``POST /auth/refresh`` before it expires or
when the server refuses it, and saves the rotated refresh token at once:
the old one is spent. The server takes a refresh token presented twice for
a stolen one and revokes the whole session, so renewal holds the data
directory's lock and first re-reads the session file. When another command
renewed it in the meantime, its tokens are adopted instead of spending
ours again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .credentials import Credential
from .errors import ApiError, SessionExpired
from .store import DataDir, Session

__all__ = ["Bearer", "FixedKey", "Refresh", "SignedIn", "bearer_for"]

# Sends a refresh token to the server; answers its new token pair.
Refresh = Callable[[str], Mapping[str, Any]]
Clock = Callable[[], float]


class Bearer(Protocol):
    def token(self, refresh: Refresh) -> str:
        """The credential to send now, renewed first if it is known to be stale."""
        ...

    def renew(self, refresh: Refresh) -> bool:
        """After the server refused the credential: whether a new one is worth a retry."""
        ...


class FixedKey:
    def __init__(self, key: str) -> None:
        self._key = key

    def token(self, refresh: Refresh) -> str:
        return self._key

    def renew(self, refresh: Refresh) -> bool:
        return False  # a refused key stays refused


class SignedIn:
    def __init__(self, store: DataDir, session: Session, clock: Clock = time.time) -> None:
        self.session = session
        self._store = store
        self._clock = clock

    def token(self, refresh: Refresh) -> str:
        if self.session.expired(self._clock()):
            self.renew(refresh)
        return self.session.access_token

    def renew(self, refresh: Refresh) -> bool:
        with self._store.lock():
            on_disk = self._store.read_session()
            if on_disk is None:
                raise SessionExpired()  # signed out meanwhile: do not bring it back
            if on_disk.refresh_token != self.session.refresh_token:
                self.session = on_disk
                if not on_disk.expired(self._clock()):
                    return True
            try:
                tokens = refresh(self.session.refresh_token)
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                raise SessionExpired() from None
            self.session = self.session.renewed(tokens, self._clock())
            self._store.write_session(self.session)
        return True


def bearer_for(credential: Credential | None, store: DataDir) -> Bearer | None:
    if credential is None:
        return None
    if credential.session is not None:
        return SignedIn(store, credential.session)
    return FixedKey(credential.key or "")
