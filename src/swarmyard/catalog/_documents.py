"""Catalogue documents (agent manifests, skill packs) from outside input.

A document comes as a mapping, or as TOML or JSON text; each kind is then
validated by its own model. The reading is shared so every kind refuses the
same mistakes with the same words: one `ValidationFailed(what, problems)`.
The built-in documents are TOML files shipped in a folder of the package,
read with `importlib.resources` so a checkout and an installed wheel load
the same way.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..domain import Problem, ValidationFailed
from ._problems import json_syntax_problem, toml_syntax_problem

__all__ = ["not_an_object", "packaged", "read_document"]

_FORMATS = ("toml", "json")
_PACKAGE = "swarmyard.catalog"


class _Packaged(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def builtin(self) -> bool: ...


D = TypeVar("D", bound=_Packaged)


def read_document(
    data: object, *, what: str, source: str = "<input>", fmt: str | None = None
) -> Mapping[str, Any]:
    """`data` as a mapping of keys: itself, or TOML or JSON text parsed. The
    format is `fmt` when given, else the extension of `source`, else guessed
    from the content (a leading ``{`` means JSON)."""
    if isinstance(data, Mapping):
        return data
    # A decoded request body can be anything JSON allows; answer it like bad text.
    if not isinstance(data, (str, bytes, bytearray)):
        raise not_an_object(data, what)
    text = _decode(bytes(data) if isinstance(data, bytearray) else data, source, what)
    fmt = _choose_format(text, source, fmt, what)
    try:
        parsed: object = tomllib.loads(text) if fmt == "toml" else _load_json(text, source, what)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(what, [toml_syntax_problem(exc, text, source)]) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(what, [json_syntax_problem(exc, source)]) from None
    if not isinstance(parsed, dict):
        raise not_an_object(parsed, what)
    return parsed


def packaged(folder: str, parse: Callable[[bytes, str], D], what: str) -> tuple[D, ...]:
    """The documents shipped in the package's `folder`, sorted by id. A file
    whose id is not its name, or that is not marked built-in, is a packaging
    mistake: failing loudly keeps it from shipping under the wrong name."""
    found: list[D] = []
    for entry in sorted(resources.files(_PACKAGE).joinpath(folder).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"{_PACKAGE.replace('.', '/')}/{folder}/{entry.name}"
        doc = parse(entry.read_bytes(), source)
        problems = []
        if doc.id != entry.name.removesuffix(".toml"):
            problems.append(Problem("id", f"must match the file name of {source}"))
        if not doc.builtin:
            problems.append(Problem("builtin", f"must be true in {source}"))
        if problems:
            raise ValidationFailed(f"built-in {what}", problems)
        found.append(doc)
    return tuple(sorted(found, key=lambda d: d.id))


def not_an_object(value: object, what: str) -> ValidationFailed:
    kind = "a list" if isinstance(value, list) else f"a {type(value).__name__}"
    if value is None:
        kind = "null"
    return ValidationFailed(what, [Problem("", f"a {what} must be an object of keys, not {kind}")])


def _choose_format(text: str, source: str, fmt: str | None, what: str) -> str:
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        if fmt not in _FORMATS:
            reason = f"unknown {what} format {fmt!r}; use one of: {', '.join(_FORMATS)}"
            raise ValidationFailed(what, [Problem("", reason)])
        return fmt
    suffix = Path(source).suffix.lower().lstrip(".")
    if suffix in _FORMATS:
        return suffix
    return "json" if text.lstrip().startswith("{") else "toml"


def _decode(data: str | bytes, source: str, what: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f" of {source}" if source != "<input>" else ""
        reason = f"not UTF-8 text: byte {exc.start}{where} cannot be decoded"
        raise ValidationFailed(what, [Problem("", reason)]) from None


def _load_json(text: str, source: str, what: str) -> object:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        # json.loads keeps the last of repeated keys silently; a document
        # edited by hand deserves to hear that one of its values is ignored.
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    parsed = json.loads(text, object_pairs_hook=pairs)
    if duplicates:
        where = f" in {source}" if source != "<input>" else ""
        problems = [Problem("", f"key {key!r} appears more than once{where}") for key in duplicates]
        raise ValidationFailed(what, problems)
    return parsed
