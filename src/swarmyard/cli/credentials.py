"""Which server, which workspace, and which credential a command uses.

Every source is listed in one place, in order of precedence, so the rule is
read once: a key given with ``--api-key``, else ``SWARMYARD_API_KEY``, else
the session ``swarmyard login`` saved, else the owner key the server wrote
to ``credentials.json``. The server address and the workspace follow the
same stored files when not given: the session's first, then the key
file's. Standard library only: this module is loaded on every start.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import DataDir, KeyFile, Session

__all__ = ["DEFAULT_URL", "DEFAULT_WORKSPACE", "Credential", "Target", "resolve"]

DEFAULT_URL = "http://127.0.0.1:8420"
DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True, slots=True)
class Credential:
    """What goes after ``Bearer``: a fixed key, or a session's renewable token."""

    # Where it came from, in words ("key from --api-key", "session", ...).
    source: str
    key: str | None = None
    session: Session | None = None


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    workspace: str
    credential: Credential | None


def resolve(
    store: DataDir,
    *,
    url: str | None,
    workspace: str | None,
    api_key: str | None,
    api_key_source: str = "--api-key",
    use_session: bool = True,
) -> Target:
    """The server, workspace and credential for a command, given its options
    (``None`` where neither an option nor the environment says)."""
    session = store.read_session() if use_session else None
    key_file = store.read_key_file()
    return Target(
        url=url or _first_url(session, key_file) or DEFAULT_URL,
        workspace=workspace or _first_workspace(session, key_file) or DEFAULT_WORKSPACE,
        credential=_credential(store, api_key, api_key_source, session, key_file),
    )


def _credential(
    store: DataDir,
    api_key: str | None,
    api_key_source: str,
    session: Session | None,
    key_file: KeyFile | None,
) -> Credential | None:
    if api_key:
        return Credential(f"key from {api_key_source}", key=api_key)
    if session is not None:
        return Credential("session", session=session)
    if key_file is not None:
        return Credential(f"key in {store.credentials_path}", key=key_file.api_key)
    return None


def _first_url(session: Session | None, key_file: KeyFile | None) -> str | None:
    if session is not None:
        return session.url
    return key_file.url if key_file is not None else None


def _first_workspace(session: Session | None, key_file: KeyFile | None) -> str | None:
    if session is not None and session.workspace:
        return session.workspace
    return key_file.workspace if key_file is not None else None
