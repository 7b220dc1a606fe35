"""Real published MCP servers for the gateway's acceptance tests.

`mcp-server-time` and `mcp-server-git` come from PyPI (the `dev` extra);
`@modelcontextprotocol/server-everything` from npm, installed here on first
use into a cache directory (with `--ignore-scripts`: nothing but the npm
registry is reached) and reused after. Each finder answers the server, or
a sentence saying why it is missing, for the tests to skip with.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EVERYTHING_PACKAGE",
    "EVERYTHING_VERSION",
    "EverythingServer",
    "children",
    "everything_or_reason",
    "free_port",
    "http_everything",
    "kill_children",
    "python_server_or_reason",
]

EVERYTHING_PACKAGE = "@modelcontextprotocol/server-everything"
# Pinned: the tests name its tools (echo, get-sum, ...), which move between releases.
EVERYTHING_VERSION = "2026.8.31"
_NPM_SECONDS = 300


def python_server_or_reason(module: str, package: str) -> str | None:
    """None when `module` is importable, else why not."""
    if importlib.util.find_spec(module) is None:
        return f"{package} is not installed: pip install -e '.[dev]' to run the MCP tests"
    return None


@dataclass(frozen=True, slots=True)
class EverythingServer:
    node: str
    script: Path  # the package's bin (dist/index.js): `node script stdio|streamableHttp`


def everything_or_reason(cache: Path) -> EverythingServer | str:
    """The npm package, installed into `cache` unless it already is there."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return f"npm and node are needed for {EVERYTHING_PACKAGE}; one is missing from PATH"
    package_dir = cache / "node_modules" / Path(*EVERYTHING_PACKAGE.split("/"))
    if _installed_version(package_dir) != EVERYTHING_VERSION:
        cache.mkdir(parents=True, exist_ok=True)
        command = [
            npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund",
            "--ignore-scripts", "--no-save", "--loglevel", "error",
            f"{EVERYTHING_PACKAGE}@{EVERYTHING_VERSION}",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_NPM_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            return f"npm install {EVERYTHING_PACKAGE} took over {_NPM_SECONDS}s"
        if done.returncode != 0:
            said = " ".join(done.stderr.split())[-300:]
            return f"npm install {EVERYTHING_PACKAGE} failed: {said}"
    bin_name = json.loads((package_dir / "package.json").read_text())["bin"]
    script = package_dir / (
        bin_name if isinstance(bin_name, str) else next(iter(bin_name.values()))
    )
    return EverythingServer(node, script)


def _installed_version(package_dir: Path) -> str | None:
    try:
        version = json.loads((package_dir / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return None
    return str(version) if version else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def http_everything(server: EverythingServer, *, timeout: float = 30.0) -> AsyncIterator[str]:
    """The package's streamable HTTP server on a free port; its endpoint's URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        server.node,
        str(server.script),
        "streamableHttp",
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _listening(port, process, timeout)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _listening(port: int, process: asyncio.subprocess.Process, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"the MCP HTTP server exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"the MCP HTTP server did not listen on port {port} within {timeout}s")


def children(marker: str) -> list[int]:
    """This process's children whose command line holds `marker` (Linux)."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The parent's pid is the 4th field of stat, after the parenthesised name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == me and marker in cmdline:
            found.append(int(entry.name))
    return found


def kill_children(marker: str) -> list[int]:
    """SIGKILL those children: how a test makes a stdio server die under the gateway."""
    found = children(marker)
    for pid in found:
        os.kill(pid, signal.SIGKILL)
    return found
