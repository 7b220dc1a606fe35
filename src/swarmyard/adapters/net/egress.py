"""Judge a URL before anything connects to it: its form, its literal
address, then every address its name resolves to.

`screen` needs no network and is what a registration is held to (a URL
stored now is connected to later, and a literal address never changes).
`check` resolves the name too and answers the addresses that passed, which
the caller then connects to and no other: a name that resolves differently
a moment later (DNS rebinding) cannot move the connection.
"""

from __future__ import annotations

from typing import NoReturn

from ...ports.net import FetchRefused, IPAddress, Resolver
from .addresses import METADATA_NAMES, EgressRules
from .resolvers import SystemResolver
from .urls import Target, parse_url

__all__ = ["EgressGuard"]


class EgressGuard:
    """`hint` ends every refusal the allow list could lift (never the
    metadata endpoints): a sentence for whoever can change the rules."""

    def __init__(
        self,
        rules: EgressRules | None = None,
        resolver: Resolver | None = None,
        *,
        hint: str = "",
    ) -> None:
        self._rules = rules or EgressRules()
        self._resolver = resolver or SystemResolver()
        self._hint = hint

    def screen(self, url: str) -> None:
        self.target(url)

    def target(self, url: str) -> Target:
        """The URL's target, or `FetchRefused` for its form, its scheme, a
        literal address or a local name the rules refuse. Nothing is resolved."""
        target = parse_url(url)
        host = target.host
        if host.address is not None:
            self._judge(host.address, None, url)
        else:
            self._refuse_name(host.name, url)
        return target

    async def check(self, url: str) -> tuple[Target, tuple[IPAddress, ...]]:
        """Where `url` would connect: its target and checked addresses, or
        `FetchRefused` (`ResolveFailed` when the name has no address)."""
        target = self.target(url)
        host = target.host
        if host.address is not None:
            return target, (host.address,)
        addresses = await self._resolver.resolve(host.name)
        for address in addresses:
            self._judge(address, host.name, url)
        return target, tuple(addresses)

    def _judge(self, address: IPAddress, name: str | None, url: str) -> None:
        why = self._rules.check(address, host=name)
        if why is None:
            return
        via = f"{name} resolves to {address}; " if name else ""
        self._refuse(why.rule, f"{via}{why.detail}", url)

    def _refuse_name(self, name: str, url: str) -> None:
        if name in METADATA_NAMES:
            self._refuse("metadata", f"{name} is a cloud metadata endpoint", url)
        localhost = name == "localhost" or name.endswith(".localhost")
        if localhost and not self._rules.host_allowed(name):
            self._refuse("loopback", f"{name} is the host itself", url)

    def _refuse(self, rule: str, reason: str, url: str) -> NoReturn:
        if self._hint and rule != "metadata":
            reason = f"{reason}; {self._hint}"
        raise FetchRefused(rule, reason, url=url)
