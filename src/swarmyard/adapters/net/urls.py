"""Check a URL's form and take it apart into what will be connected to.

The request is later built from these parts, never from the original text,
so no second parser can read the URL differently from this one (the classic
SSRF trick: a URL one parser sends to a public host and another to an
internal one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ...ports.net import FetchRefused
from .hosts import Host, parse_host

__all__ = ["MAX_URL_CHARS", "Target", "parse_url"]

MAX_URL_CHARS = 8192
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Whitespace and control characters are dropped or kept depending on the
# parser (Python's urlsplit silently removes tabs and newlines); a backslash
# is a slash to browsers and not to urlsplit.
_AMBIGUOUS = re.compile(r"[\x00-\x20\x7f\\]")
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str  # "http" or "https"
    host: Host
    port: int
    path: str  # path and query, ASCII, starting with "/"

    @property
    def authority(self) -> str:
        """Host (and port when not the scheme's default): the Host header."""
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return self.host.header
        return f"{self.host.header}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host.name, self.port


def _split_authority(netloc: str) -> tuple[str, bool, str]:
    """(host, bracketed, port text) of an authority without user info."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise FetchRefused("host", "an IPv6 address without its closing bracket")
        rest = netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            raise FetchRefused("host", f"unexpected {rest!r} after the IPv6 address")
        return netloc[1:end], True, rest[1:]
    host, _, port = netloc.partition(":")
    return host, False, port


def _port(text: str, scheme: str) -> int:
    if not text:
        return _DEFAULT_PORTS[scheme]
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise FetchRefused("port", f"{text!r} is not a port number (1-65535)")
    return int(text)


def parse_url(url: str) -> Target:
    """The target of `url`, or `FetchRefused` naming the rule it breaks:
    `url` (malformed), `scheme` (not http/https), `credentials` (user info
    in the URL), `host` or `port`."""
    if len(url) > MAX_URL_CHARS:
        raise FetchRefused("url", f"the URL is longer than {MAX_URL_CHARS} characters", url=url)
    if _AMBIGUOUS.search(url):
        raise FetchRefused(
            "url", "the URL contains whitespace, control characters or a backslash", url=url
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchRefused("url", f"not a valid URL: {exc}", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"{scheme}:" if scheme else "a URL without a scheme"
        raise FetchRefused("scheme", f"only http and https URLs are fetched, not {shown}", url=url)
    if "@" in parts.netloc:
        raise FetchRefused(
            "credentials", "URLs with a user name or password are not fetched", url=url
        )
    try:
        raw_host, bracketed, port_text = _split_authority(parts.netloc)
        host = parse_host(raw_host, bracketed=bracketed)
        port = _port(port_text, scheme)
    except FetchRefused as exc:
        raise FetchRefused(exc.rule, exc.reason, url=url) from None
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return Target(scheme, host, port, path)
