"""Settings, read from ``SWARMYARD_*`` environment variables.

With nothing set Swarmyard runs embedded: SQLite in the data directory and
the in-process bus, bound to 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMYARD_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".swarmyard")
    # Empty: SQLite at <data_dir>/swarmyard.db. Else e.g. postgresql+asyncpg://host/db.
    database_url: str = ""
    # Empty or "memory": the in-process bus. nats://… selects NATS (cluster mode).
    bus_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8420

    # A real OpenAI-compatible endpoint (Ollama, vLLM, OpenAI…); without it,
    # agents use the built-in offline model.
    openai_base_url: str = ""
    openai_api_key: str = ""
    model: str = ""
    # Artificial thinking time of the offline model per call, in milliseconds
    # (demos and crash-recovery tests want runs that take a while).
    offline_delay_ms: int = Field(default=0, ge=0, le=600_000)

    # Signs access tokens; every process of a cluster needs the same value.
    # Empty: a key generated once into <data_dir>/secret.key (mode 0600).
    secret_key: str = ""

    # Browser origins allowed to call the API (CORS); empty: CORS off.
    cors_origins: list[str] = Field(default_factory=list)
    # Requests per minute per client address and per API key or user.
    rate_limit_per_ip: str = "300/minute"
    rate_limit_per_principal: str = "600/minute"
    rate_limit_auth_per_ip: str = "10/minute"
    rate_limits_enabled: bool = True
    # Behind a reverse proxy: take the client address from X-Forwarded-For.
    trust_forwarded: bool = False

    worker_concurrency: int = Field(default=200, ge=1, le=100_000)
    lease_seconds: float = Field(default=30.0, gt=0)
    run_max_seconds: float = Field(default=1800.0, gt=0)
    orchestrator_interval: float = Field(default=1.0, gt=0)
    # On SIGTERM, how long runs in flight may go on before they are handed back.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'swarmyard.db'}"

    @property
    def embedded_bus(self) -> bool:
        return self.bus_url in ("", "memory")
