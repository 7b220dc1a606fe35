"""The failures a command can end with, and how each is told to a person.

Commands raise these instead of printing and exiting themselves, so one
place (the root command group) decides the wording and the exit code:
1 for an error answered by the server, 2 for a usage mistake, 3 when no
server answers. A refused credential (401) and a refused action (403) get
their own classes, so the person is told how to sign in or which role is
missing. Nothing here imports an HTTP library: the module is loaded on
every start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "EXIT_API",
    "EXIT_NO_SERVER",
    "EXIT_USAGE",
    "SIGN_IN_HINT",
    "ApiError",
    "CliError",
    "NoServer",
    "NotAllowed",
    "NotSignedIn",
    "ServerGone",
    "SessionExpired",
    "api_error",
    "describe_details",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_NO_SERVER = 3

SIGN_IN_HINT = "run swarmyard login, or pass --api-key"


class CliError(Exception):
    """A failure worth one `error: ...` line (and maybe a few detail lines)."""

    exit_code = EXIT_API

    def __init__(self, message: str, *, hints: list[str] | None = None, exit_code: int = 0):
        super().__init__(message)
        self.message = message
        self.hints = hints or []
        if exit_code:
            self.exit_code = exit_code

    def lines(self) -> list[str]:
        """What to print, first line included."""
        return [f"error: {self.message}", *(f"  {hint}" for hint in self.hints)]


class NoServer(CliError):
    """Nothing listens at the configured address."""

    exit_code = EXIT_NO_SERVER

    def __init__(self, url: str):
        super().__init__(f"no Swarmyard server answers at {url} — start one with `swarmyard serve`")
        self.url = url

    def lines(self) -> list[str]:
        # The message already says everything; no "error:" prefix, as promised
        # by the command's documentation.
        return [self.message]


class ServerGone(CliError):
    """A server accepted the connection but broke it before answering."""

    exit_code = EXIT_NO_SERVER


class ApiError(CliError):
    """The server answered with an error body ``{"error": {code, message, details}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        hints = [] if _repeats(message, details) else describe_details(details)
        super().__init__(_headline(message, hints), hints=hints)
        self.status = status
        self.code = code
        self.details = details


class NotSignedIn(ApiError):
    """401: no credential was sent, or the server does not accept it."""

    def __init__(self, code: str, message: str, details: Any = None):
        super().__init__(401, code, message, details)
        self.hints.append(SIGN_IN_HINT)


class NotAllowed(ApiError):
    """403: the credential is good but its role may not do this. The server's
    message names the role and the action, so those details are not repeated."""

    def __init__(self, code: str, message: str, details: Any = None):
        shown = details
        if isinstance(details, Mapping):
            shown = {k: v for k, v in details.items() if k not in ("role", "action")}
        super().__init__(403, code, message, shown)
        self.details = details


class SessionExpired(CliError):
    """The signed-in session could not be renewed; only a new sign-in helps."""

    def __init__(self) -> None:
        super().__init__("your session expired: run `swarmyard login`")


def api_error(status: int, code: str, message: str, details: Any = None) -> ApiError:
    """The error for an answer with `status`, of the class that explains it best."""
    if status == 401:
        return NotSignedIn(code, message, details)
    if status == 403:
        return NotAllowed(code, message, details)
    return ApiError(status, code, message, details)


def describe_details(details: Any) -> list[str]:
    """One readable line per problem found in an error's ``details``."""
    if details is None or details in ({}, []):
        return []
    if isinstance(details, list):
        return [_describe_item(item) for item in details]
    if isinstance(details, Mapping):
        lines: list[str] = []
        for key, value in details.items():
            lines.extend(_describe_entry(str(key), value))
        return lines
    return [str(details)]


def _describe_entry(key: str, value: Any) -> list[str]:
    if key == "missing" and isinstance(value, list):
        return [f"missing: {_dependency(item)}" for item in value]
    if key == "dependants" and isinstance(value, list):
        return [f"dependant: {_name(item)}" for item in value]
    if isinstance(value, list) and all(_is_problem(item) for item in value):
        return [_describe_item(item) for item in value]
    return [f"{key}: {_scalar_text(value)}"]


def _describe_item(item: Any) -> str:
    if _is_problem(item):
        path = item.get("path")
        if isinstance(path, list):
            path = ".".join(str(part) for part in path)
        reason = item.get("reason") or item.get("message")
        return f"{path}: {reason}" if path else str(reason)
    if isinstance(item, Mapping):
        return _compact(item)
    return str(item)


def _is_problem(item: Any) -> bool:
    return isinstance(item, Mapping) and "path" in item and ("reason" in item or "message" in item)


def _dependency(item: Any) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    kind = "role" if item.get("role") else "agent"
    text = f"{kind} {item.get(kind)}"
    if item.get("min_version"):
        text += f" >= {item['min_version']}"
    return text


def _name(item: Any) -> str:
    if isinstance(item, Mapping):
        name, ident = item.get("name"), item.get("id")
        if name and ident:
            return f"{name} ({ident})"
        return str(name or ident or _compact(item))
    return str(item)


def _headline(message: str, hints: list[str]) -> str:
    """The message without the problems it inlines when they are listed below
    anyway (``invalid task: title: required; type: unknown`` -> ``invalid task``)."""
    cut = message.find(hints[0]) if hints else -1
    return message[:cut].rstrip(" :;,") if cut > 0 else message


def _repeats(message: str, details: Any) -> bool:
    """Whether structured details only restate the message (``not_found``'s
    kind and id, an illegal move's states), so printing them adds noise."""
    if not isinstance(details, Mapping) or not details:
        return False
    return all(_scalar_text(value) in message for value in details.values())


def _scalar_text(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value) or "none"
    return _compact(value)


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
