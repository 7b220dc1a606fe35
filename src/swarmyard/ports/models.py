"""Ports of the agent loop: model clients, model selection and tools."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..domain import ModelSpec, ProviderSpec

if TYPE_CHECKING:  # pydantic-ai is heavy; only the worker imports it at run time.
    from pydantic_ai.messages import ModelMessage, ModelResponse

__all__ = [
    "ModelCall",
    "ModelClient",
    "ModelClientFactory",
    "ModelError",
    "ModelRateLimited",
    "ModelRequestRejected",
    "ModelUnavailable",
    "PriceTable",
    "TablePrice",
    "Tool",
    "ToolContext",
    "ToolCost",
    "ToolError",
    "ToolSpec",
]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object
    # What calling it does (domain.policy.TOOL_EFFECTS: "egress",
    # "reads_private", "untrusted_content", "side_effect", "command"); the
    # policy gate reasons about these, never about the model's intent.
    effects: frozenset[str] = frozenset()


@dataclass(slots=True)
class ModelCall:
    """Everything a model needs for one THINK step."""

    messages: list[ModelMessage]
    tools: list[ToolSpec]
    max_tokens: int | None = None
    # Context the platform knows; the offline model plays its role from it.
    role: str = ""
    run_id: str = ""
    task_id: str = ""
    task_type: str = ""
    task_title: str = ""
    task_description: str = ""
    complexity: str = ""
    parent_task_id: str | None = None
    # "help" or "decision" when the role answers another agent's question
    # (domain.consultation) instead of working on the task; "" otherwise.
    consultation: str = ""
    # Where the call's cost lands (budgets, ledger) and what the role prefers.
    workspace_id: str = ""
    agent_id: str | None = None
    project_id: str | None = None
    model_tier: str = "mid"
    preferred_models: list[str] = field(default_factory=list)
    # The role the cost is booked to when it is not `role`: a consultation
    # is answered as the asked role (its prompt, routing rules and models)
    # but paid by the asking run, so its ledger row and role budget are the
    # asking run's role, as `run_id` and `agent_id` are that run's.
    booked_role: str = ""

    @property
    def ledger_role(self) -> str:
        """The role the ledger row and the role budgets name."""
        return self.booked_role or self.role


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Who is calling a tool: tools act inside this workspace and for this run only."""

    workspace_id: str
    run_id: str
    task_id: str
    role: str
    # The project's working directory (Project.workdir), when it has one:
    # command tools run there, read-only.
    workdir: str | None = None
    # The run's policy allows commands without a sandbox on a host that has
    # none (EffectivePolicy.may_run_unsandboxed); never assumed otherwise.
    unsandboxed_allowed: bool = False
    # Where a tool reports model spending made for this run elsewhere (a
    # consultation's answer), so the run's totals and cost limit include it.
    add_cost: Callable[[ToolCost], None] | None = None


@dataclass(frozen=True, slots=True)
class ToolCost:
    """Model calls a tool caused outside the run's own steps (another role
    answering its question). The ledger already holds them against the run;
    this is what the run adds to its own cost and token counts."""

    cost_microusd: int
    tokens_in: int = 0
    tokens_out: int = 0

    @classmethod
    def total(cls, costs: Iterable[ToolCost]) -> ToolCost:
        """Several costs as one."""
        costs = list(costs)
        return cls(
            sum(c.cost_microusd for c in costs),
            sum(c.tokens_in for c in costs),
            sum(c.tokens_out for c in costs),
        )


class Tool(Protocol):
    """A tool an agent may call. The result is text for the model (JSON for
    structured answers); a refusal or failure raises `ToolError`."""

    spec: ToolSpec

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str: ...


class ToolError(Exception):
    """A tool refused or failed; the message goes back to the model."""


class ModelClient(Protocol):
    provider: str  # "openai", "offline", …
    model_name: str
    offline: bool  # True for the built-in deterministic model: labelled so everywhere

    async def request(self, call: ModelCall) -> ModelResponse:
        """One model turn; the response carries usage and `model_name`.
        `call.max_tokens`, when set, is sent as the output cap."""
        ...

    def stream(self, call: ModelCall) -> AsyncIterator[str | ModelResponse]:
        """The same turn streamed: text deltas as they arrive, then the
        complete `ModelResponse` (with usage) as the last item. Failures
        raise the same `ModelError`s as `request`, before or between items."""
        ...


class ModelClientFactory(Protocol):
    """Builds the client of one model of one provider."""

    def client(
        self, provider: ProviderSpec, model: ModelSpec, *, api_key: str | None = None
    ) -> ModelClient:
        """The client, built once per (provider, model, key) and reused. Without
        `api_key` the key is read from `provider.api_key_env`. A provider that
        cannot be used (its key variable unset) raises `ModelRequestRejected`
        naming the problem, never the key."""
        ...

    async def aclose(self) -> None:
        """Close every client's connections (at shutdown)."""
        ...


@dataclass(frozen=True, slots=True)
class TablePrice:
    """A public list price, USD per million tokens. Tiered prices give their
    highest tier here (what a worst-case reservation needs)."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float


class PriceTable(Protocol):
    """Public prices of the big vendors' models (genai-prices behind it)."""

    def price(self, provider_kind: str, model: str) -> TablePrice | None:
        """None when the table does not know the model."""
        ...

    def cost_microusd(
        self, provider_kind: str, model: str, *, tokens_in: int, tokens_out: int, tokens_cached: int
    ) -> int | None:
        """Exact cost of a call's usage (tiers applied; `tokens_in` includes the
        cached ones), rounded to the µUSD; None when the model is unknown."""
        ...


class ModelError(Exception):
    """A model call failed. Adapters turn every provider failure into one of
    these, so the router never imports an SDK to classify errors.

    `retryable`: whether sending the same request again (after a pause) may
    succeed. `status_code` is the HTTP status when there was one;
    `retry_after` the pause in seconds the provider asked for, if it did.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after
        if retryable is not None:
            # Per instance: e.g. an exhausted quota is a 429 that waiting will not cure.
            self.retryable = retryable


class ModelUnavailable(ModelError):
    """The endpoint could not serve the request now: connection refused or
    reset, timeout, HTTP 5xx, or a malformed response. Retrying may help."""

    retryable = True


class ModelRateLimited(ModelError):
    """The provider throttled us (HTTP 429). Retry after `retry_after`, or
    fall back; an exhausted quota is raised with ``retryable=False``."""

    retryable = True


class ModelRequestRejected(ModelError):
    """The provider refused this request itself (HTTP 4xx other than 429:
    bad request, bad credentials, unknown model, context too long). Sending
    it again unchanged will fail the same way; another model may accept it."""

    retryable = False
