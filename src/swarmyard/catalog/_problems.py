"""Turning every way a manifest can be wrong into `Problem`s.

Manifests are written by people (custom ones through the API and the CLI), so
a refusal has to name each mistake with its field path in one go, instead of
leaking pydantic's error objects or stopping at the first parser complaint.
This module knows the shapes of those complaints; `loader` decides when to
ask for them.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..domain import TASK_TYPES, AgentManifest, Problem

__all__ = [
    "json_syntax_problem",
    "problem_sort_key",
    "task_type_problems",
    "toml_syntax_problem",
    "validation_problems",
]

# tomllib (3.11-3.13) reports the position only inside its message.
_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_TOML_AT_END = re.compile(r"^(?P<msg>.*) \(at end of document\)$", re.S)
# Error types whose message already names the offending value.
_MESSAGE_NAMES_INPUT = frozenset({"value_error", "assertion_error", "extra_forbidden", "missing"})
_MAX_SHOWN_INPUT = 60
# Friendlier words for the patterns of domain.manifest (the pattern text is
# what pydantic reports; an unknown pattern keeps pydantic's own message).
_PATTERN_REASONS = {
    "^[a-z][a-z0-9-]{1,62}$": (
        "must be 2 to 63 lowercase letters, digits or hyphens, starting with a letter"
    ),
}


def toml_syntax_problem(exc: tomllib.TOMLDecodeError, document: str, source: str) -> Problem:
    message = str(exc)
    where = f" in {source}" if source != "<input>" else ""
    if m := _TOML_POSITION.match(message):
        line, column, reason = m["line"], m["col"], m["msg"]
    elif m := _TOML_AT_END.match(message):
        # Say where the end is: an editor can jump to a line, not to "the end".
        lines = document.split("\n")
        line, column = str(len(lines)), f"{len(lines[-1]) + 1} (end of document)"
        reason = m["msg"]
    else:
        return Problem("", f"TOML syntax error{where}: {message}")
    return Problem("", f"TOML syntax error at line {line}, column {column}{where}: {reason}")


def json_syntax_problem(exc: json.JSONDecodeError, source: str) -> Problem:
    where = f" in {source}" if source != "<input>" else ""
    return Problem(
        "", f"JSON syntax error at line {exc.lineno}, column {exc.colno}{where}: {exc.msg}"
    )


def validation_problems(
    exc: ValidationError, root: type[BaseModel] = AgentManifest
) -> list[Problem]:
    """One problem per pydantic error, with a dotted path and a plain reason.
    `root` is the model that was validated (for the allowed-keys hints)."""
    return [
        Problem(".".join(str(part) for part in err["loc"]), _reason(err, root))
        for err in exc.errors(include_url=False)
    ]


def task_type_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Task types the platform does not know, found in the raw input.

    The schema types `task_types` as plain strings; checking them here means
    a typo is reported together with every other mistake, even when the rest
    of the capability is broken too.
    """
    problems: list[Problem] = []
    capabilities = data.get("capabilities")
    if not isinstance(capabilities, list):
        return problems
    for i, capability in enumerate(capabilities):
        if not isinstance(capability, Mapping):
            continue
        task_types = capability.get("task_types")
        if not isinstance(task_types, list):
            continue
        for j, task_type in enumerate(task_types):
            if isinstance(task_type, str) and task_type not in TASK_TYPES:
                reason = f"unknown task type {task_type!r}{_did_you_mean(task_type, TASK_TYPES)}"
                reason += f"; known types: {', '.join(TASK_TYPES)}"
                problems.append(Problem(f"capabilities.{i}.task_types.{j}", reason))
    return problems


def problem_sort_key(problem: Problem) -> tuple[tuple[int, int, str], ...]:
    """Order problems by path, list indexes numerically (2 before 10)."""
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part)
        for part in problem.path.split(".")
        if part
    )


def _reason(err: ErrorDetails, root: type[BaseModel]) -> str:
    kind = err["type"]
    loc = err["loc"]
    if kind == "extra_forbidden":
        return _unknown_key_reason(loc, root)
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        if pattern in _PATTERN_REASONS:
            return f"{_PATTERN_REASONS[pattern]} (got {_shown_input(err.get('input'))})"
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in _MESSAGE_NAMES_INPUT:
        shown = _shown_input(err.get("input"))
        if shown:
            message += f" (got {shown})"
    return message


def _unknown_key_reason(loc: Sequence[int | str], root: type[BaseModel]) -> str:
    key = str(loc[-1]) if loc else ""
    known = _fields_at(loc[:-1], root)
    if not known:
        return "unknown key"
    return f"unknown key{_did_you_mean(key, known)}; allowed keys: {', '.join(known)}"


def _fields_at(loc: Sequence[int | str], root: type[BaseModel]) -> list[str]:
    """The field names of the model at `loc` inside `root` (for hints)."""
    annotation: Any = root
    for part in loc:
        annotation = _without_none(annotation)
        if _is_mapping(annotation):
            args = get_args(annotation)
            annotation = args[-1] if args else None
        elif isinstance(part, int):
            args = get_args(annotation)
            annotation = args[0] if args else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field is not None else None
        else:
            return []
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _without_none(annotation: Any) -> Any:
    """`Model | None` -> `Model` (optional sections of a file)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _is_mapping(annotation: Any) -> bool:
    """A `dict[str, Model]` field: its keys are names, not fields (e.g. providers)."""
    origin = getattr(annotation, "__origin__", None)
    return origin is dict


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown_input(value: object) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        return text if len(text) <= _MAX_SHOWN_INPUT else text[: _MAX_SHOWN_INPUT - 3] + "..."
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return ""
