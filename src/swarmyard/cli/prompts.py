"""Questions for the person at the terminal, and what scripts give instead.

A password is typed with the echo off, never passed as an option (it would
land in the shell history and in ``ps``); scripts pipe it in with
``--password-stdin``. A destructive act asks first on a terminal and, when
nobody can answer, insists on ``--yes``. Without a terminal nothing waits
for an answer that cannot come: the command says which option it needs.
"""

from __future__ import annotations

import sys

import typer

from .context import stdin_is_terminal
from .errors import EXIT_API, EXIT_USAGE, CliError

__all__ = ["ask", "confirm", "password", "secret_from_stdin"]


def password(*, from_stdin: bool, twice: bool = False) -> str:
    """A password: the first line of stdin, or typed (`twice` to catch typos)."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif stdin_is_terminal():
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=twice)
    else:
        raise CliError(
            "no terminal to type the password in: pass --password-stdin and pipe it in",
            exit_code=EXIT_USAGE,
        )
    if not secret:
        raise CliError("the password is empty", exit_code=EXIT_USAGE)
    return secret


def secret_from_stdin(what: str) -> str:
    """A secret given with ``--<what>-stdin``: typed with the echo off on a
    terminal, else the first line piped in. Never an option's value, which
    would land in the shell history."""
    if stdin_is_terminal():
        secret = str(typer.prompt(what.capitalize(), hide_input=True)).strip()
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise CliError(f"the {what} is empty", exit_code=EXIT_USAGE)
    return secret


def ask(question: str, *, option: str, default: str | None = None) -> str:
    """An answer typed on the terminal, or a usage error naming `option`."""
    if not stdin_is_terminal():
        raise CliError(f"pass {option}: there is no terminal to ask on", exit_code=EXIT_USAGE)
    answer = str(typer.prompt(question, default=default)).strip()
    if not answer:
        raise CliError(f"{option} is empty", exit_code=EXIT_USAGE)
    return answer


def confirm(question: str, *, yes: bool, refused: str, act: str) -> None:
    """Go on only when `yes` was passed or the person agrees to `question`."""
    if yes:
        return
    if not stdin_is_terminal():
        raise CliError(f"pass --yes to {act} without a terminal", exit_code=EXIT_USAGE)
    if not typer.confirm(question, default=False):
        raise CliError(refused, exit_code=EXIT_API)
