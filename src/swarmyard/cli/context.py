"""What every command shares: the global options, the API client, the output.

The root callback stores a `CliState` in Typer's context; commands fetch it
with `session`. The client and the renderer are built on first use, which
keeps httpx and Rich out of start-up (``swarmyard --help`` must be quick).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from .client import ApiClient
    from .output import Output

__all__ = ["CliState", "session", "stdin_is_terminal"]


@dataclass
class CliState:
    url: str
    workspace: str
    json_output: bool
    _client: ApiClient | None = field(default=None, init=False, repr=False)
    _out: Output | None = field(default=None, init=False, repr=False)

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            # Loaded late on purpose: importing httpx costs about 0.1 s.
            from .client import ApiClient  # noqa: PLC0415

            self._client = ApiClient(self.url, self.workspace)
        return self._client

    @property
    def out(self) -> Output:
        if self._out is None:
            # Rich likewise: only when something is shown.
            from .output import Output  # noqa: PLC0415

            self._out = Output(self.json_output)
        return self._out

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def session(ctx: typer.Context) -> tuple[ApiClient, Output]:
    """The API client and the renderer of the running command."""
    state = ctx.find_object(CliState)
    if state is None:  # pragma: no cover - the root callback always sets it
        raise RuntimeError("the swarmyard root callback did not run")
    return state.client, state.out


def stdin_is_terminal() -> bool:
    """Whether a person can answer a question on stdin."""
    return sys.stdin.isatty()
