"""The SDK connector's failures, on programs that are no MCP servers (only
Python is needed): each is one `McpUnavailable` naming what went wrong,
with the program's last words on stderr, and nothing is left running. And
how content blocks and SDK errors read."""

from __future__ import annotations

import sys

import httpx2
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from swarmyard.adapters.mcp import SdkMcpConnector
from swarmyard.adapters.mcp._content import render_block
from swarmyard.adapters.mcp._errors import describe
from swarmyard.adapters.net import EgressGuard, EgressRules
from swarmyard.domain.mcp import McpTransport
from swarmyard.ports import McpEndpoint, McpUnavailable
from swarmyard.testing.mcp_servers import children, free_port


def stdio(*code: str) -> McpEndpoint:
    return McpEndpoint(
        McpTransport.STDIO, command=sys.executable, args=("-c", "\n".join(code)), label="x"
    )


async def test_a_missing_command_is_named() -> None:
    endpoint = McpEndpoint(McpTransport.STDIO, command="no-such-mcp-server-here", label="x")
    with pytest.raises(McpUnavailable, match="no such command: no-such-mcp-server-here"):
        await SdkMcpConnector().connect(endpoint, timeout=5)


async def test_a_server_that_exits_says_why_on_stderr() -> None:
    dies = stdio(
        "import sys", "print('invalid repository: /nowhere', file=sys.stderr)", "sys.exit(2)"
    )
    with pytest.raises(McpUnavailable) as failed:
        await SdkMcpConnector().connect(dies, timeout=5)
    assert "during the MCP handshake" in failed.value.message
    assert "(stderr: invalid repository: /nowhere)" in failed.value.message


async def test_a_silent_server_times_out_and_is_stopped() -> None:
    marker = "# silent-mcp-server"
    silent = stdio("import sys", "sys.stdin.read()", marker)
    with pytest.raises(McpUnavailable, match=r"within 0\.3s") as failed:
        await SdkMcpConnector().connect(silent, timeout=0.3)
    assert failed.value.timed_out
    assert children(marker) == []


async def test_nobody_listening_is_a_connect_error() -> None:
    endpoint = McpEndpoint(
        McpTransport.HTTP, url=f"http://127.0.0.1:{free_port()}/mcp", label="MCP server 'x'"
    )
    loopback = EgressGuard(EgressRules.parse(["127.0.0.1"]))
    with pytest.raises(McpUnavailable, match="MCP server 'x': ConnectError"):
        await SdkMcpConnector(egress=loopback).connect(endpoint, timeout=5)


def test_content_blocks_read_as_text() -> None:
    assert render_block(types.TextContent(text="hello")) == "hello"
    image = types.ImageContent(data="aGVsbG8h", mime_type="image/png")
    assert render_block(image) == "[image image/png, 6 bytes, not shown]"
    link = types.ResourceLink(uri="file:///a.txt", name="a")
    assert render_block(link) == "[resource link file:///a.txt (a)]"
    text = types.EmbeddedResource(resource=types.TextResourceContents(uri="x://1", text="body"))
    assert render_block(text) == "body"
    blob = types.BlobResourceContents(uri="x://2", blob="AAAA", mime_type="application/zip")
    assert render_block(types.EmbeddedResource(resource=blob)) == (
        "[binary resource x://2, application/zip, not shown]"
    )


def test_errors_are_named_inside_exception_groups() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:1/mcp")
    refused = httpx2.ConnectError("All connection attempts failed", request=request)
    assert describe(ExceptionGroup("tg", [refused])) == (
        "ConnectError (http://127.0.0.1:1/mcp): All connection attempts failed"
    )
    assert describe(MCPError(-32601, "Not Found")) == "MCP error -32601: Not Found"
    assert describe(RuntimeError()) == "RuntimeError"
