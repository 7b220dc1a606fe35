"""Outbound HTTP for tools: the SSRF-safe fetcher, its resolvers and address rules.

`SafeHttpFetcher` is the only way a tool sends a request; `MemoryHttpFetcher`
is the same fetcher with canned responses, for tests. `EgressGuard` holds
other outbound connections to the same rules (an MCP server's URL when it
is registered), and `PinnedTransport` connects an httpx2 client only to the
addresses it checked.
"""

from .addresses import METADATA_NAMES, EgressRules, Refusal, refusal
from .egress import EgressGuard
from .fetcher import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, MAX_REDIRECTS, SafeHttpFetcher
from .hops import Hop, HopResponse, HopSender
from .hosts import Host, parse_host
from .memory import CannedResponse, MemoryHttpFetcher, MemorySender
from .pinned import PinnedBackend, PinnedSender
from .pinned_client import EgressRefused, PinnedTransport
from .resolvers import MemoryResolver, SystemResolver
from .urls import Target, parse_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "METADATA_NAMES",
    "CannedResponse",
    "EgressGuard",
    "EgressRefused",
    "EgressRules",
    "Hop",
    "HopResponse",
    "HopSender",
    "Host",
    "MemoryHttpFetcher",
    "MemoryResolver",
    "MemorySender",
    "PinnedBackend",
    "PinnedSender",
    "PinnedTransport",
    "Refusal",
    "SafeHttpFetcher",
    "SystemResolver",
    "Target",
    "parse_host",
    "parse_url",
    "refusal",
]
