"""Rows of model spending, shared by the SQL and the in-memory adapters
(the counterpart of `rows.py` for budgets, the ledger, prices and providers).

Besides the codecs it holds the few rules both adapters must apply alike:
which counters a ledger entry is charged to, and the one order in which
counters are locked (the same order in every transaction, so that two of
them holding counters on PostgreSQL never wait for each other in a circle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from swarmyard.domain import (
    Budget,
    BudgetPeriod,
    BudgetScope,
    CounterKey,
    LedgerEntry,
    ModelPrice,
    OnExceed,
    ProviderSpec,
    Reservation,
    window_start,
)
from swarmyard.ports import StoredProvider

from .rows import Codec, Row, as_utc, owned_row

__all__ = [
    "BUDGETS",
    "FILTER_COLUMNS",
    "LEDGER",
    "PRICES",
    "RESERVATIONS",
    "SCOPE_COLUMN",
    "budget_label",
    "charged_keys",
    "counter_key",
    "counter_row",
    "in_lock_order",
    "ledger_row",
    "lock_rank",
    "provider_from_row",
    "provider_row",
]

_Convert = Callable[[Any], Any]


def _enum(cls: type[StrEnum]) -> tuple[_Convert, _Convert]:
    # As in `rows.py`: encoding through the enum refuses a misspelt value.
    return (lambda v: cls(v).value), cls


def _key_to_json(key: CounterKey) -> dict[str, str]:
    return {
        "scope": BudgetScope(key.scope).value,
        "scope_id": key.scope_id,
        "period": BudgetPeriod(key.period).value,
        "window_start": as_utc(key.window_start).isoformat(),
    }


def _key_from_json(data: Mapping[str, str]) -> CounterKey:
    return CounterKey(
        BudgetScope(data["scope"]),
        data["scope_id"],
        BudgetPeriod(data["period"]),
        as_utc(datetime.fromisoformat(data["window_start"])),
    )


BUDGETS = Codec(
    Budget,
    times=("updated_at",),
    convert={"scope": _enum(BudgetScope), "on_exceed": _enum(OnExceed)},
)
LEDGER = Codec(LedgerEntry, times=("at",))
PRICES = Codec(ModelPrice, times=("updated_at",))
RESERVATIONS = Codec(
    Reservation,
    json=("keys",),
    times=("created_at", "expires_at"),
    convert={
        "keys": (
            lambda keys: [_key_to_json(k) for k in keys],
            lambda data: [_key_from_json(d) for d in data],
        )
    },
)


# The fields of a `UsageFilter` matched by equality, each on the ledger column of its name.
FILTER_COLUMNS = (
    "role",
    "task_type",
    "provider",
    "model",
    "project_id",
    "agent_id",
    "task_id",
    "run_id",
)

# The ledger column a budget scope counts by; the workspace scope counts every entry.
SCOPE_COLUMN: dict[BudgetScope, str | None] = {
    BudgetScope.WORKSPACE: None,
    BudgetScope.ROLE: "role",
    BudgetScope.PROJECT: "project_id",
    BudgetScope.AGENT: "agent_id",
}


def ledger_row(entry: LedgerEntry, workspace_id: str) -> Row:
    row = owned_row(LEDGER, entry, workspace_id)
    # From the UTC time, whatever zone the caller's `at` was in.
    row["day"] = row["at"].strftime("%Y-%m-%d")
    return row


def counter_row(workspace_id: str, key: CounterKey) -> Row:
    """The key columns of a counter row."""
    return {
        "workspace_id": workspace_id,
        "scope": BudgetScope(key.scope).value,
        "scope_id": key.scope_id,
        "period": BudgetPeriod(key.period).value,
        "window_start": as_utc(key.window_start),
    }


def counter_key(row: Mapping[Any, Any]) -> CounterKey:
    return CounterKey(
        BudgetScope(row["scope"]),
        row["scope_id"],
        BudgetPeriod(row["period"]),
        as_utc(row["window_start"]),
    )


def _normal(key: CounterKey) -> CounterKey:
    return CounterKey(
        BudgetScope(key.scope), key.scope_id, BudgetPeriod(key.period), as_utc(key.window_start)
    )


def lock_rank(key: CounterKey) -> tuple[str, str, str, datetime]:
    """Where a counter comes in the order every transaction takes counters."""
    key = _normal(key)
    return (key.scope.value, key.scope_id, key.period.value, key.window_start)


def in_lock_order(keys: Iterable[CounterKey]) -> list[CounterKey]:
    """The keys, each once, in lock order."""
    return sorted(dict.fromkeys(_normal(k) for k in keys), key=lock_rank)


def charged_keys(entry: LedgerEntry) -> list[CounterKey]:
    """The counters a call is charged to: its workspace, role, project and
    agent, in the month and the week of its time."""
    scopes = [(BudgetScope.WORKSPACE, ""), (BudgetScope.ROLE, entry.role)]
    if entry.project_id is not None:
        scopes.append((BudgetScope.PROJECT, entry.project_id))
    if entry.agent_id is not None:
        scopes.append((BudgetScope.AGENT, entry.agent_id))
    return in_lock_order(
        CounterKey(scope, scope_id, period, window_start(period, entry.at))
        for scope, scope_id in scopes
        for period in BudgetPeriod
    )


def budget_label(scope: BudgetScope, scope_id: str) -> str:
    """How a missing budget is named (as `Budget.label` names an existing one)."""
    scope = BudgetScope(scope)
    return scope.value if not scope_id else f"{scope.value} {scope_id}"


def provider_row(provider: StoredProvider, workspace_id: str) -> Row:
    return {
        "workspace_id": workspace_id,
        "name": provider.spec.name,
        "spec": provider.spec.model_dump(mode="json"),
        "sealed_key": provider.sealed_key,
        "updated_at": as_utc(provider.updated_at),
        "updated_by": provider.updated_by,
    }


def provider_from_row(row: Mapping[Any, Any]) -> StoredProvider:
    return StoredProvider(
        spec=ProviderSpec.model_validate(row["spec"]),
        updated_at=as_utc(row["updated_at"]),
        sealed_key=row["sealed_key"],
        updated_by=row["updated_by"],
    )
