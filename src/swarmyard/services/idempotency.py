"""Idempotency keys for mutating API requests.

A client that retries a request with the same `Idempotency-Key` gets the
first answer again instead of a second effect. The same key with a
different request is refused: it is a client bug, not a retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from ..domain import Conflict, DomainError
from ..ports import IdempotentResponse
from .deps import Deps

__all__ = ["IdempotencyGuard", "KeyReused", "request_hash"]

MAX_KEY_LENGTH = 200


class KeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


class IdempotencyGuard:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def run(
        self,
        workspace_id: str,
        key: str,
        fingerprint: str,
        produce: Callable[[], Awaitable[tuple[int, bytes]]],
    ) -> tuple[int, bytes]:
        if len(key) > MAX_KEY_LENGTH:
            raise KeyReused(f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
        stored = await self._lookup(workspace_id, key, fingerprint)
        if stored is not None:
            return stored
        status, body = await produce()
        if status >= 500:
            return status, body
        record = IdempotentResponse(key, fingerprint, status, body, self._d.clock.now())
        try:
            async with self._d.store.unit_of_work(workspace_id) as uow:
                await uow.idempotency.put(record)
                await uow.commit()
        except Conflict:
            # A concurrent twin finished first: answer as it did.
            return await self._lookup(workspace_id, key, fingerprint) or (status, body)
        return status, body

    async def _lookup(
        self, workspace_id: str, key: str, fingerprint: str
    ) -> tuple[int, bytes] | None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            stored = await uow.idempotency.get(key)
        if stored is None:
            return None
        if stored.request_hash != fingerprint:
            raise KeyReused("this Idempotency-Key was already used for a different request")
        return stored.status_code, stored.body
