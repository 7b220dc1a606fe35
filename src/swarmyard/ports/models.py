"""Ports of the agent loop: model clients, model selection and tools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..domain import (
    AgentManifest,
    Task,
)

if TYPE_CHECKING:  # pydantic-ai is heavy; only the worker imports it at run time.
    from pydantic_ai.messages import ModelMessage, ModelResponse

__all__ = [
    "ModelCall",
    "ModelClient",
    "ModelSelector",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolSpec",
]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object


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


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Who is calling a tool: tools act inside this workspace and for this run only."""

    workspace_id: str
    run_id: str
    task_id: str
    role: str


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
        """One model turn; the response carries usage and `model_name`."""
        ...


class ModelSelector(Protocol):
    """Which model serves a role (the full router with budgets replaces this)."""

    def select(self, role: str, task: Task, manifest: AgentManifest) -> ModelClient: ...
    async def aclose(self) -> None:
        """Close the clients' connections (at shutdown)."""
        ...
