"""The ledger: one entry per model call, the truth about what was spent.

Budget counters are a cache of the ledger (a counter created for a new
budget starts from the ledger's sum for its window), usage reports are
queries over it, and every entry says why its model was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["LedgerEntry", "ModelPrice", "UsageGroup", "UsageRow"]


@dataclass(slots=True)
class LedgerEntry:
    id: str
    workspace_id: str
    at: datetime
    provider: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_microusd: int = 0
    latency_ms: float = 0.0
    run_id: str | None = None
    task_id: str | None = None
    agent_id: str | None = None
    project_id: str | None = None
    role: str = ""
    task_type: str = ""
    reason: str = ""  # why this model: rule, budget tier, fallback…
    ok: bool = True  # False: the call failed (kept so failures count per provider)
    error: str | None = None

    @property
    def day(self) -> str:
        """UTC day of the call, the `day` grouping of usage reports."""
        return self.at.strftime("%Y-%m-%d")


class UsageGroup(StrEnum):
    PROVIDER = "provider"
    MODEL = "model"
    ROLE = "role"
    TASK_TYPE = "task_type"
    DAY = "day"
    PROJECT = "project"
    AGENT = "agent"
    TASK = "task"
    RUN = "run"


@dataclass(frozen=True, slots=True)
class UsageRow:
    key: str  # the group's value ("" when the entries had none, e.g. no project)
    calls: int
    failed_calls: int
    tokens_in: int
    tokens_out: int
    tokens_cached: int
    cost_microusd: int


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A workspace's own price for a model, in USD per million tokens (which
    is µUSD per token). Self-hosted and custom models need one; it overrides
    the public price table for any model."""

    model_ref: str  # "provider:model", as the router names models
    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cached_input_per_mtok: float = 0.0
    updated_at: datetime | None = None
    updated_by: str = ""
