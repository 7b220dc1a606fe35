"""A workspace's extra authorization rules: replaced rarely, read on every request.

They change rarely and are read constantly, so each process keeps them for
a few seconds; the process that changes them forgets its copy at once, and
others catch up within the time-to-live.
"""

from __future__ import annotations

import time

from ..authz import validate_workspace_rules
from ..domain import Principal
from .audit import record_audit
from .deps import Deps

__all__ = ["WorkspaceRules"]


class WorkspaceRules:
    def __init__(self, deps: Deps, *, ttl_seconds: float = 5.0) -> None:
        self._d = deps
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str]] = {}

    async def get(self, workspace_id: str) -> str:
        hit = self._cache.get(workspace_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        async with self._d.store.unit_of_work(workspace_id) as uow:
            text = await uow.rules.get()
        self._cache[workspace_id] = (now, text)
        return text

    async def replace(self, principal: Principal, text: str, *, ip: str | None) -> None:
        """Validate (422 naming the problem, nothing stored) and store the rules."""
        validate_workspace_rules(text)
        async with self._d.store.unit_of_work(principal.workspace_id) as uow:
            await uow.rules.set(text, at=self._d.clock.now(), by=principal.actor)
            await record_audit(
                uow,
                self._d,
                actor=principal.actor,
                action="policy.write",
                resource=f"workspace:{principal.workspace_id}",
                ip=ip,
            )
            await uow.commit()
        self._cache.pop(principal.workspace_id, None)  # this process sees it at once
