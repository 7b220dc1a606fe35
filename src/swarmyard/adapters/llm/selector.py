"""Which model serves the agents, from the settings alone.

With `SWARMYARD_OPENAI_BASE_URL` set, every role talks to that endpoint's
`SWARMYARD_MODEL`; without it, every role uses the built-in offline model,
so a fresh install works with no key. The full router (rules, budgets,
fallback chains) replaces this selector; until then it is the one place
that decides.

Importing this module does not import pydantic-ai: the CLI imports it to
wire the process, and only the chosen client pulls in its dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ModelConfigurationError

if TYPE_CHECKING:
    from ...config import Settings
    from ...domain import AgentManifest, Task
    from ...ports import ModelClient

__all__ = ["DefaultModelSelector"]


class DefaultModelSelector:
    """`ModelSelector` that hands every role the one client the settings name.

    The client is built here, once, and reused for every call: a missing
    model name fails at start-up, naming the variable, and an HTTP client
    keeps one connection pool.
    """

    def __init__(self, settings: Settings) -> None:
        self.client: ModelClient = _client_for(settings)

    def select(self, role: str, task: Task, manifest: AgentManifest) -> ModelClient:
        return self.client

    async def aclose(self) -> None:
        """Release the client's connections (the offline model holds none)."""
        close = getattr(self.client, "aclose", None)
        if close is not None:
            await close()


def _client_for(settings: Settings) -> ModelClient:
    # Imported here, not at the top: each pulls in pydantic-ai (and the HTTP
    # endpoint one the openai SDK), which a CLI command that never calls a
    # model should not pay for.
    if not settings.openai_base_url.strip():
        from .offline import OfflineModel  # noqa: PLC0415

        return OfflineModel(delay_ms=settings.offline_delay_ms)
    if not settings.model.strip():
        raise ModelConfigurationError(
            "SWARMYARD_OPENAI_BASE_URL is set but SWARMYARD_MODEL is empty: set SWARMYARD_MODEL "
            "to a model the endpoint serves (e.g. llama3.1 for Ollama), or unset "
            "SWARMYARD_OPENAI_BASE_URL to use the built-in offline model"
        )
    from .openai_compat import OpenAICompatibleModel  # noqa: PLC0415

    return OpenAICompatibleModel(
        base_url=settings.openai_base_url,
        model=settings.model,
        api_key=settings.openai_api_key,
    )
