"""What every command shares: the global options, the API client, the output.

The root callback stores a `CliState` in Typer's context; commands fetch it
with `session` (or `state_of`). Where the server, workspace and credential
come from is settled on first use (see `credentials`), and the client and
the renderer are built then too: ``swarmyard --help`` reads no file and
loads neither httpx nor Rich, so it stays quick.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .credentials import Target, resolve
from .errors import CliError
from .store import DataDir

if TYPE_CHECKING:
    from .bearer import Bearer
    from .client import ApiClient
    from .output import Output

__all__ = ["CliState", "session", "state_of", "stdin_is_terminal"]


@dataclass
class CliState:
    # As given by an option or the environment; None when neither said.
    url: str | None
    workspace: str | None
    api_key: str | None
    data_dir: Path
    json_output: bool
    api_key_source: str = "--api-key"
    _target: Target | None = field(default=None, init=False, repr=False)
    _client: ApiClient | None = field(default=None, init=False, repr=False)
    _clients: list[ApiClient] = field(default_factory=list, init=False, repr=False)
    _out: Output | None = field(default=None, init=False, repr=False)

    @property
    def store(self) -> DataDir:
        return DataDir(self.data_dir)

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = self._resolve(use_session=True)
        return self._target

    @property
    def client(self) -> ApiClient:
        """A client that sends the credential `target` chose."""
        if self._client is None:
            from .bearer import bearer_for  # noqa: PLC0415

            self._client = self._open(bearer_for(self.target.credential, self.store), self.target)
        return self._client

    def unsigned_client(self, url: str | None = None) -> ApiClient:
        """A client that sends no credential, for signing in and out (to `url`,
        else the server a command would talk to)."""
        try:
            target = self.target
        except CliError:
            # A damaged session file must not stop the sign-in that replaces it.
            target = self._resolve(use_session=False)
        return self._open(None, replace(target, url=url) if url else target)

    @property
    def out(self) -> Output:
        if self._out is None:
            # Rich likewise: only when something is shown.
            from .output import Output  # noqa: PLC0415

            self._out = Output(self.json_output)
        return self._out

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def _resolve(self, *, use_session: bool) -> Target:
        return resolve(
            self.store,
            url=self.url,
            workspace=self.workspace,
            api_key=self.api_key,
            api_key_source=self.api_key_source,
            use_session=use_session,
        )

    def _open(self, bearer: Bearer | None, target: Target) -> ApiClient:
        # Loaded late on purpose: importing httpx costs about 0.1 s.
        from .client import ApiClient  # noqa: PLC0415

        client = ApiClient(target.url, target.workspace, bearer=bearer)
        self._clients.append(client)
        return client


def state_of(ctx: typer.Context) -> CliState:
    """The global options of the running command."""
    state = ctx.find_object(CliState)
    if state is None:  # pragma: no cover - the root callback always sets it
        raise RuntimeError("the swarmyard root callback did not run")
    return state


def session(ctx: typer.Context) -> tuple[ApiClient, Output]:
    """The API client and the renderer of the running command."""
    state = state_of(ctx)
    return state.client, state.out


def stdin_is_terminal() -> bool:
    """Whether a person can answer a question on stdin."""
    return sys.stdin.isatty()
