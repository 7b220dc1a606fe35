"""`fs.read`, `fs.write`, `fs.list`, `fs.search`: the task's project files.

Every path is confined to the project's working directory (`_workdir.confine`):
`..`, absolute paths elsewhere and symlinks pointing out are refused. `.git`
belongs to the git tools: these never list, search, read or write inside it.
Answers are capped so one call cannot flood the model's context, and the
file work runs in a thread so the event loop keeps serving other runs.

`fs.write` is the only one with a side effect. It replaces a file
atomically (a temporary file in the same directory, then a rename), so a
reader never sees half a file, and writing the same content again changes
nothing: the journal of the agent loop keeps a resumed run from repeating
it, and a repeat would be harmless anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ...ports import Tool, ToolContext, ToolError, ToolSpec
from ._workdir import confine, in_git_dir, project_root, relative

__all__ = [
    "ListFilesTool",
    "ReadFileTool",
    "SearchFilesTool",
    "WriteFileTool",
    "file_tools",
]

READ_MAX_BYTES = 100_000
WRITE_MAX_BYTES = 1_048_576
LIST_MAX_ENTRIES = 2_000
LIST_DEFAULT_ENTRIES = 500
SEARCH_MAX_MATCHES = 500
SEARCH_DEFAULT_MATCHES = 100
SEARCH_MAX_FILE_BYTES = 4_194_304  # bigger files are skipped (logs, dumps)
SEARCH_MAX_FILES = 20_000
SEARCH_SECONDS = 20.0  # a pathological regex stops the search here, between lines
_MATCH_TEXT_CHARS = 300
_SNIFF_BYTES = 8192  # a NUL byte in these makes a file binary, as git decides
_GIT_HINT = "`.git` is git's own data; use git.status and git.diff"


def _binary(head: bytes) -> bool:
    return b"\x00" in head


def _int_arg(args: dict[str, Any], key: str, *, default: int | None, ceiling: int) -> int | None:
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError(f"{key} must be a positive integer")
    return min(value, ceiling)


def _bool_arg(args: dict[str, Any], key: str) -> bool:
    value = args.get(key, False)
    if not isinstance(value, bool):
        raise ToolError(f"{key} must be true or false")
    return value


def _os_error(rel: str, exc: OSError) -> ToolError:
    return ToolError(f"{rel}: {exc.strerror or exc}")


def _open_regular(path: Path, rel: str) -> IO[bytes]:
    """Open for reading without following a link in the last part (one swapped
    in after the check) and without blocking on a FIFO; regular files only."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ToolError(f"{rel} does not exist") from None
    except IsADirectoryError:
        raise ToolError(f"{rel} is a directory; use fs.list") from None
    except OSError as exc:
        raise _os_error(rel, exc) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory; use fs.list" if stat.S_ISDIR(mode) else "not a regular file"
        raise ToolError(f"{rel} is {kind}")
    return os.fdopen(fd, "rb")


# --- fs.read -----------------------------------------------------------------


def _lines(f: IO[bytes], cap: int) -> Iterator[bytes]:
    """The file's lines; one longer than `cap` comes as its first cap+1 bytes
    (the rest is skipped), so a file without newlines cannot fill memory."""
    while chunk := f.readline(cap + 1):
        if len(chunk) > cap and not chunk.endswith(b"\n"):
            while (rest := f.readline(cap + 1)) and not rest.endswith(b"\n"):
                pass
        yield chunk


@dataclass(slots=True)
class _Window:
    text: str
    lines: int
    next_offset: int | None


def _window(f: IO[bytes], offset: int, limit: int | None, max_bytes: int) -> _Window:
    kept: list[bytes] = []
    used = 0
    number = 0
    for raw in _lines(f, max_bytes):
        number += 1
        if number < offset:
            continue
        if (limit is not None and len(kept) >= limit) or used + len(raw) > max_bytes:
            if kept:
                return _Window(b"".join(kept).decode("utf-8", "replace"), len(kept), number)
            # A first line over the cap: show its start, move on past it.
            return _Window(raw[:max_bytes].decode("utf-8", "replace"), 1, number + 1)
        kept.append(raw)
        used += len(raw)
    return _Window(b"".join(kept).decode("utf-8", "replace"), len(kept), None)


class ReadFileTool:
    def __init__(self, *, max_bytes: int = READ_MAX_BYTES) -> None:
        self._max = max_bytes
        self.spec = ToolSpec(
            name="fs.read",
            description=(
                "Read a text file of the project (path relative to the project's directory). "
                "Optional offset (first line, 1-based) and limit (number of lines); at most "
                f"max_bytes (default and ceiling {max_bytes}) come back. When more follows, "
                "truncated is true and next_offset says where to continue. Binary files are "
                "refused."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path in the project"},
                    "offset": {"type": "integer", "minimum": 1, "description": "First line"},
                    "limit": {"type": "integer", "minimum": 1, "description": "Lines to read"},
                    "max_bytes": {"type": "integer", "minimum": 1, "maximum": max_bytes},
                },
                "required": ["path"],
                "additionalProperties": False,
            },
            effects=frozenset({"reads_private"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        root = project_root(ctx, self.spec.name)
        path = confine(root, args.get("path"))
        offset = _int_arg(args, "offset", default=1, ceiling=2**63) or 1
        limit = _int_arg(args, "limit", default=None, ceiling=2**63)
        max_bytes = _int_arg(args, "max_bytes", default=self._max, ceiling=self._max) or self._max
        if in_git_dir(root, path):
            raise ToolError(f"fs.read does not read inside .git: {_GIT_HINT}")
        answer = await asyncio.to_thread(self._read, root, path, offset, limit, max_bytes)
        return json.dumps(answer)

    @staticmethod
    def _read(
        root: Path, path: Path, offset: int, limit: int | None, max_bytes: int
    ) -> dict[str, Any]:
        rel = relative(root, path)
        with _open_regular(path, rel) as f:
            size = os.fstat(f.fileno()).st_size
            if _binary(f.read(_SNIFF_BYTES)):
                raise ToolError(f"{rel} is a binary file ({size} bytes); fs.read shows text only")
            f.seek(0)
            window = _window(f, offset, limit, max_bytes)
        return {
            "path": rel,
            "size": size,
            "offset": offset,
            "lines": window.lines,
            "text": window.text,
            "truncated": window.next_offset is not None,
            "next_offset": window.next_offset,
        }


# --- fs.write ----------------------------------------------------------------


def _replace_atomically(target: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)  # replaces a link in the last part itself, never its target
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a crash
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class WriteFileTool:
    def __init__(self, *, max_bytes: int = WRITE_MAX_BYTES) -> None:
        self._max = max_bytes
        self.spec = ToolSpec(
            name="fs.write",
            description=(
                "Write a text file of the project (path relative to the project's directory), "
                "replacing it whole; missing parent directories are created. At most "
                f"{max_bytes} bytes (UTF-8). Nothing inside .git may be written."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path in the project"},
                    "content": {"type": "string", "description": "The file's new content"},
                },
                "required": ["path", "content"],
                "additionalProperties": False,
            },
            effects=frozenset({"side_effect"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        root = project_root(ctx, self.spec.name)
        path = confine(root, args.get("path"))
        content = args.get("content")
        if not isinstance(content, str):
            raise ToolError("fs.write needs content (a string)")
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:
            raise ToolError("content is not valid Unicode text (a lone surrogate)") from None
        if len(data) > self._max:
            raise ToolError(f"content is {len(data)} bytes; fs.write takes at most {self._max}")
        if path == root:
            raise ToolError("fs.write needs a file path, not the project's directory")
        if in_git_dir(root, path):
            raise ToolError("fs.write does not write inside .git: it is git's own data")
        answer = await asyncio.to_thread(self._write, root, path, data)
        return json.dumps(answer)

    @staticmethod
    def _write(root: Path, path: Path, data: bytes) -> dict[str, Any]:
        rel = relative(root, path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A directory on the way may have become a link since the check: check again.
            if path.parent.resolve(strict=True) != path.parent:
                raise ToolError(f"path {rel!r} is outside the project's working directory")
            try:
                before = os.lstat(path)
            except FileNotFoundError:
                before = None
            if before is not None and not stat.S_ISREG(before.st_mode):
                kind = "a directory" if stat.S_ISDIR(before.st_mode) else "not a regular file"
                raise ToolError(f"{rel} is {kind}; fs.write replaces regular files only")
            mode = stat.S_IMODE(before.st_mode) if before is not None else 0o644
            _replace_atomically(path, data, mode)
        except (NotADirectoryError, FileExistsError):  # mkdir met a file on the way
            raise ToolError(f"a parent of {rel} is a file, not a directory") from None
        except OSError as exc:
            raise _os_error(rel, exc) from None
        return {"path": rel, "bytes": len(data), "created": before is None}


# --- walking (fs.list, fs.search) --------------------------------------------


def _entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return sorted((e for e in it if e.name.lower() != ".git"), key=lambda e: e.name)
    except OSError:  # unreadable, or gone meanwhile: nothing to show
        return []


def _walk(start: Path, *, recursive: bool) -> Iterator[os.DirEntry[str]]:
    """Entries under `start` in tree order, `.git` left out; links to
    directories are shown, never entered (they may lead out of the project)."""
    stack = [iter(_entries(str(start)))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        yield entry
        if recursive and entry.is_dir(follow_symlinks=False):
            stack.append(iter(_entries(entry.path)))


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "symlink"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "file" if entry.is_file(follow_symlinks=False) else "other"


def _directory(root: Path, args: dict[str, Any], tool: str) -> Path:
    path = confine(root, args.get("path", "."))
    if in_git_dir(root, path):
        raise ToolError(f"{tool} does not look inside .git: {_GIT_HINT}")
    return path


class ListFilesTool:
    def __init__(self, *, max_entries: int = LIST_MAX_ENTRIES) -> None:
        self._max = max_entries
        self._default = min(LIST_DEFAULT_ENTRIES, max_entries)
        self.spec = ToolSpec(
            name="fs.list",
            description=(
                "List a directory of the project (default: its top). With recursive, the "
                "whole tree below it. Entries have path, type (file, dir, symlink, other) and "
                f"size; at most max_entries (default {self._default}, ceiling {max_entries}). "
                ".git is left out; links to directories are not followed."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Directory in the project"},
                    "recursive": {"type": "boolean"},
                    "max_entries": {"type": "integer", "minimum": 1, "maximum": max_entries},
                },
                "additionalProperties": False,
            },
            effects=frozenset({"reads_private"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        root = project_root(ctx, self.spec.name)
        path = _directory(root, args, self.spec.name)
        recursive = _bool_arg(args, "recursive")
        cap = _int_arg(args, "max_entries", default=self._default, ceiling=self._max)
        answer = await asyncio.to_thread(self._list, root, path, recursive, cap or self._default)
        return json.dumps(answer)

    @staticmethod
    def _list(root: Path, path: Path, recursive: bool, cap: int) -> dict[str, Any]:
        rel = relative(root, path)
        if not path.exists():
            raise ToolError(f"{rel} does not exist")
        if not path.is_dir():
            raise ToolError(f"{rel} is a file; use fs.read")
        entries: list[dict[str, Any]] = []
        truncated = False
        for entry in _walk(path, recursive=recursive):
            if len(entries) >= cap:
                truncated = True
                break
            kind = _kind(entry)
            item: dict[str, Any] = {"path": relative(root, Path(entry.path)), "type": kind}
            if kind == "file":
                with contextlib.suppress(OSError):
                    item["size"] = entry.stat(follow_symlinks=False).st_size
            entries.append(item)
        return {"path": rel, "entries": entries, "truncated": truncated}


# --- fs.search ---------------------------------------------------------------


@dataclass(slots=True)
class _Search:
    pattern: re.Pattern[str]
    glob: str | None
    cap: int
    matches: list[str]
    files: int = 0
    stopped: str | None = None

    def wanted(self, rel: str) -> bool:
        if self.glob is None:
            return True
        # A glob without '/' names files anywhere; one with '/' the path from the top.
        target = rel if "/" in self.glob else rel.rsplit("/", 1)[-1]
        return fnmatch.fnmatchcase(target, self.glob)


def _search_file(search: _Search, path: str, rel: str, deadline: float) -> None:
    try:
        with _open_regular(Path(path), rel) as f:
            if os.fstat(f.fileno()).st_size > SEARCH_MAX_FILE_BYTES:
                return
            if _binary(f.read(_SNIFF_BYTES)):
                return
            f.seek(0)
            search.files += 1
            for number, raw in enumerate(f, start=1):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if search.pattern.search(line):
                    if len(search.matches) >= search.cap:
                        search.stopped = f"more than {search.cap} matches"
                        return
                    search.matches.append(f"{rel}:{number}:{line[:_MATCH_TEXT_CHARS]}")
                if time.monotonic() > deadline:
                    search.stopped = f"searched for {SEARCH_SECONDS:g} s"
                    return
    except ToolError:  # gone, unreadable or replaced meanwhile: not a match
        return


class SearchFilesTool:
    def __init__(self, *, max_matches: int = SEARCH_MAX_MATCHES) -> None:
        self._max = max_matches
        self._default = min(SEARCH_DEFAULT_MATCHES, max_matches)
        self.spec = ToolSpec(
            name="fs.search",
            description=(
                "Search the project's text files for a pattern: literal text, or a Python "
                "regular expression with regex. Optional path (a directory or file to search "
                "in), glob on file names ('*.py'; with a '/' it matches the path from the "
                "top), ignore_case. Answers matches as 'path:line:text', at most max_matches "
                f"(default {self._default}, ceiling {max_matches}). Binary files, files over "
                f"{SEARCH_MAX_FILE_BYTES // 1_048_576} MiB and .git are skipped."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "Text or regular expression"},
                    "regex": {"type": "boolean", "description": "pattern is a regex"},
                    "glob": {"type": "string", "description": "Only files matching this"},
                    "path": {"type": "string", "description": "Where to search"},
                    "ignore_case": {"type": "boolean"},
                    "max_matches": {"type": "integer", "minimum": 1, "maximum": max_matches},
                },
                "required": ["pattern"],
                "additionalProperties": False,
            },
            effects=frozenset({"reads_private"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        root = project_root(ctx, self.spec.name)
        path = _directory(root, args, self.spec.name)
        glob = args.get("glob")
        if glob is not None and (not isinstance(glob, str) or not glob):
            raise ToolError("glob must be a non-empty string")
        cap = _int_arg(args, "max_matches", default=self._default, ceiling=self._max)
        search = _Search(_compile(args), glob, cap or self._default, [])
        return json.dumps(await asyncio.to_thread(self._search, root, path, search))

    @staticmethod
    def _search(root: Path, path: Path, search: _Search) -> dict[str, Any]:
        deadline = time.monotonic() + SEARCH_SECONDS
        if not path.exists():
            raise ToolError(f"{relative(root, path)} does not exist")
        if path.is_file():
            _search_file(search, str(path), relative(root, path), deadline)
        for entry in _walk(path, recursive=True) if path.is_dir() else ():
            if search.stopped:
                break
            if search.files >= SEARCH_MAX_FILES:
                search.stopped = f"searched {SEARCH_MAX_FILES} files"
                break
            rel = relative(root, Path(entry.path))
            if entry.is_file(follow_symlinks=False) and search.wanted(rel):
                _search_file(search, entry.path, rel, deadline)
        answer: dict[str, Any] = {
            "matches": search.matches,
            "files_searched": search.files,
            "truncated": search.stopped is not None,
        }
        if search.stopped:
            answer["note"] = f"stopped early: {search.stopped}; narrow path, glob or pattern"
        return answer


def _compile(args: dict[str, Any]) -> re.Pattern[str]:
    pattern = args.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ToolError("fs.search needs pattern")
    if len(pattern) > 1000:
        raise ToolError("pattern is longer than 1000 characters")
    flags = re.IGNORECASE if _bool_arg(args, "ignore_case") else 0
    if not _bool_arg(args, "regex"):
        return re.compile(re.escape(pattern), flags)
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ToolError(f"pattern is not a valid regular expression: {exc}") from None


def file_tools() -> dict[str, Tool]:
    """The project-file tools, by name."""
    tools: list[Tool] = [ReadFileTool(), WriteFileTool(), ListFilesTool(), SearchFilesTool()]
    return {tool.spec.name: tool for tool in tools}
