"""MCP clients: the official SDK's (stdio and streamable HTTP), and an
in-memory one with scripted servers for tests."""

from .memory import FakeMcpConnector, FakeMcpServer, FakeMcpSession
from .sdk import SdkMcpConnector

__all__ = ["FakeMcpConnector", "FakeMcpServer", "FakeMcpSession", "SdkMcpConnector"]
