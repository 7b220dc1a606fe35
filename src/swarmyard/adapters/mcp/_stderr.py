"""The last lines a stdio MCP server wrote to stderr, to say why it failed.

A server that cannot start usually says why on stderr ("No such file",
a Python traceback, "invalid repository"); that text is what makes a
health error useful. The child writes into a pipe that an asyncio reader
drains all the time (a full pipe would block the server), keeping only
the tail, so a chatty server cannot fill memory or a disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import IO, TextIO

__all__ = ["StderrTail"]

_KEEP = 2000


class _Reader(asyncio.Protocol):
    def __init__(self, tail: StderrTail) -> None:
        self._tail = tail

    def data_received(self, data: bytes) -> None:
        self._tail.keep(data)


class StderrTail:
    """A pipe for a child's stderr (`writer`) and the tail of what it wrote (`text`)."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self._read_file: IO[bytes] = os.fdopen(read_fd, "rb", buffering=0)
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._buffer = bytearray()
        self._transport: asyncio.ReadTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.connect_read_pipe(lambda: _Reader(self), self._read_file)

    def keep(self, data: bytes) -> None:
        self._buffer += data
        del self._buffer[:-_KEEP]

    def close_writer(self) -> None:
        """Our copy of the write end: once the child has its own, the pipe ends with the child."""
        with contextlib.suppress(OSError):
            self.writer.close()

    def close(self) -> None:
        self.close_writer()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        else:
            self._read_file.close()

    @property
    def text(self) -> str:
        """The last non-empty lines, at most a few hundred characters."""
        lines = [line.strip() for line in self._buffer.decode(errors="replace").splitlines()]
        kept = [line for line in lines if line][-5:]
        return " | ".join(kept)[-600:]
