"""The data directory's secrets: the server's key file and the login session.

``credentials.json`` is written by the server on its first start and holds
the owner's API key; ``session.json`` is written by ``swarmyard login`` and
holds a person's access and refresh tokens. Both are secrets, so a session
is written readable by its owner only (0600) and replaced atomically: a
command killed halfway never leaves half a file, and one reading it never
sees one. Several commands may renew the same session at once (two
terminals); `DataDir.lock` lets them take turns. Standard library only:
this module is loaded on every start.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import CliError

__all__ = [
    "CREDENTIALS_FILE",
    "SESSION_FILE",
    "DataDir",
    "KeyFile",
    "Session",
    "default_data_dir",
]

SESSION_FILE = "session.json"
CREDENTIALS_FILE = "credentials.json"
_LOCK_FILE = "session.lock"
# An access token this close to its expiry is renewed before use, so it
# does not expire on its way to the server.
EXPIRY_MARGIN_SECONDS = 30.0
# A server listening on every interface writes that address into its key
# file; a client reaches it on loopback.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}


def default_data_dir() -> Path:
    return Path.home() / ".swarmyard"


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in person: the tokens, and the server and workspace they are for."""

    url: str
    workspace: str
    email: str
    role: str
    access_token: str
    refresh_token: str
    # Seconds since the epoch, by this machine's clock (the server only says
    # how long the token lives, so no clock skew creeps in).
    expires_at: float

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, Any], *, url: str, email: str, now: float) -> Session:
        """The session a ``/auth/token`` answer starts."""
        blank = cls(url, "", email, "", "", "", 0.0)
        return blank.renewed(tokens, now)

    def renewed(self, tokens: Mapping[str, Any], now: float) -> Session:
        """This session with the tokens of a ``/auth/token`` or ``/auth/refresh`` answer."""
        access, refresh = tokens.get("access_token"), tokens.get("refresh_token")
        lifetime = tokens.get("expires_in")
        if not (isinstance(access, str) and isinstance(refresh, str) and access and refresh):
            raise CliError("the server's answer holds no access and refresh token")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            raise CliError("the server's answer does not say when the access token expires")
        return replace(
            self,
            access_token=access,
            refresh_token=refresh,
            expires_at=now + float(lifetime),
            workspace=str(tokens.get("workspace_id") or self.workspace),
            role=str(tokens.get("role") or self.role),
        )

    def expired(self, now: float) -> bool:
        return now >= self.expires_at - EXPIRY_MARGIN_SECONDS


@dataclass(frozen=True, slots=True)
class KeyFile:
    """``credentials.json``: the owner key the server made on its first start."""

    api_key: str
    url: str | None
    workspace: str | None


class DataDir:
    """``<data-dir>``: where the two files live (``--data-dir``,
    ``SWARMYARD_DATA_DIR``, else ``~/.swarmyard``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def session_path(self) -> Path:
        return self.path / SESSION_FILE

    @property
    def credentials_path(self) -> Path:
        return self.path / CREDENTIALS_FILE

    def read_session(self) -> Session | None:
        data = _read_json(self.session_path)
        if data is None:
            return None
        try:
            session = Session(
                url=str(data["url"]),
                workspace=str(data["workspace"]),
                email=str(data.get("email") or ""),
                role=str(data.get("role") or ""),
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                expires_at=float(data["expires_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _unreadable(self.session_path, f"missing or bad field: {exc}") from None
        _check_url(session.url, self.session_path)
        return session

    def write_session(self, session: Session) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".session-", dir=self.path)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(session), fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, self.session_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def forget_session(self) -> bool:
        """Delete the session; whether there was one."""
        try:
            self.session_path.unlink()
        except FileNotFoundError:
            return False
        return True

    def read_key_file(self) -> KeyFile | None:
        data = _read_json(self.credentials_path)
        if data is None:
            return None
        key = data.get("api_key")
        if not isinstance(key, str) or not key:
            raise _unreadable(self.credentials_path, "it holds no api_key")
        url = _reachable(str(data["url"])) if data.get("url") else None
        if url:
            _check_url(url, self.credentials_path)
        workspace = str(data["workspace"]) if data.get("workspace") else None
        return KeyFile(api_key=key, url=url, workspace=workspace)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the session's lock: one command at a time renews it, because
        a refresh token presented twice revokes the whole session."""
        if sys.platform == "win32":  # pragma: no cover - no flock there; renewals may race
            yield
            return
        import fcntl  # noqa: PLC0415 - POSIX only

        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise _unreadable(path, "it is not valid JSON") from None
    if not isinstance(data, dict):
        raise _unreadable(path, "it does not hold one JSON object")
    return data


def _unreadable(path: Path, why: str) -> CliError:
    return CliError(
        f"cannot use {path}: {why}",
        hints=["run swarmyard login to write a new session, or pass --api-key"],
    )


def _check_url(url: str, path: Path) -> None:
    if not url.startswith(("http://", "https://")):
        raise _unreadable(path, f"{url!r} is not an http:// or https:// address")


def _reachable(url: str) -> str:
    parts = urlsplit(url)
    try:
        loopback = _ANY_ADDRESS.get(parts.hostname or "")
        port = parts.port
    except ValueError:  # a bad port: the request will say so
        return url
    if loopback is None:
        return url
    return urlunsplit(parts._replace(netloc=loopback + (f":{port}" if port else "")))
