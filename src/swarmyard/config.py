"""Settings, read from ``SWARMYARD_*`` environment variables.

With nothing set Swarmyard runs embedded: SQLite in the data directory and
the in-process bus, bound to 127.0.0.1.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ROLE_NAME", "Settings"]

# A manifest's role slug (domain/manifest.py): also a subject token and durable name.
ROLE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
# Kubernetes object names: a DNS-1123 label (namespaces) and subdomain (claims).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_PART = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^(?=.{{1,253}}$){_DNS_PART}(\.{_DNS_PART})*$")
# SWARMYARD_MEMORY_EMBEDDINGS: off, the offline embedder, or a model of an
# OpenAI-compatible server (a name without spaces: Ollama's have ':' and '/').
_EMBEDDINGS = re.compile(r"^(hashing|openai:\S+)$")
_SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


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
    # The free local tier (the `local` extra: llama.cpp and a packaged model):
    # "auto" runs the packaged model when both are installed, "off" never
    # does, and a path runs that GGUF file. A `local` provider in
    # swarmyard.toml takes its place.
    local_model: str = "auto"

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
    # Short-term memory: past this many tokens (estimated) a run's older tool
    # results are shortened before a model call (runtime/compaction.py).
    history_budget_tokens: int = Field(default=24_000, ge=1_000, le=2_000_000)
    # Long-term memory searched by similarity beside words (ADR 0015): empty:
    # words only; "hashing": the offline lexical embedder (letter sequences,
    # not meaning); "openai:<model>": any OpenAI-compatible /v1/embeddings
    # server. Its URL defaults to openai_base_url, then api.openai.com; the
    # key to openai_api_key only when the URL is that same default.
    memory_embeddings: str = ""
    memory_embeddings_base_url: str = ""
    memory_embeddings_api_key: str = ""
    orchestrator_interval: float = Field(default=1.0, gt=0)
    # A run still unclaimed this long after it was queued is queued again
    # (its message may be lost: a bus restarted without its stream, a leader
    # that died between commit and publish); a duplicate is harmless.
    redispatch_seconds: float = Field(default=60.0, gt=0)
    # On SIGTERM, how long runs in flight may go on before they are handed back.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)

    # Cluster processes (`swarmyard api|worker|scheduler`).
    # The roles a `swarmyard worker` serves, comma-separated; empty: every known role.
    worker_roles: str = ""
    # How often a worker serving every role looks for new custom roles.
    worker_roles_refresh_seconds: float = Field(default=30.0, gt=0)
    # A scheduler leads for this long without renewing (it renews every third of it).
    leader_ttl_seconds: float = Field(default=15.0, ge=1)
    # Port of the /healthz and /readyz endpoint of worker and scheduler
    # processes (bound to `host`); 0: none.
    health_port: int = Field(default=0, ge=0, le=65535)
    # "json": one JSON object per log line (log collectors); "console": for people.
    log_format: Literal["console", "json"] = "console"

    # Where agents' commands run (docs/tools.md): "auto" uses bubblewrap when
    # it works on this host, else none (commands refused unless a policy
    # allows them unsandboxed); "bubblewrap", "unsandboxed" or "none" force one;
    # "kubernetes" runs each command as a Job of its own (never chosen by "auto").
    sandbox: Literal["auto", "bubblewrap", "unsandboxed", "kubernetes", "none"] = "auto"
    # The Kubernetes sandbox. The defaults are a pod's own: the in-cluster API
    # server, its service account's token, CA and namespace files.
    kubernetes_image: str = ""  # the commands' image; needed with SWARMYARD_SANDBOX=kubernetes
    kubernetes_namespace: str = ""  # empty: the one kubernetes_namespace_file names
    kubernetes_api_url: str = "https://kubernetes.default.svc"
    kubernetes_token_file: Path | None = _SERVICE_ACCOUNT / "token"  # empty: no token
    kubernetes_ca_file: Path | None = _SERVICE_ACCOUNT / "ca.crt"  # empty: the system's CAs
    kubernetes_namespace_file: Path = _SERVICE_ACCOUNT / "namespace"
    # A PersistentVolumeClaim holding the project directories, mounted
    # read-only into each command's pod; this process sees it at
    # kubernetes_projects_root (a working directory's path below it is the subPath).
    kubernetes_projects_claim: str = ""
    kubernetes_projects_root: Path | None = None
    # Private networks and hosts tools may fetch from (intranet use), and
    # MCP servers' HTTP endpoints may be on, e.g. ["10.0.0.0/8",
    # "wiki.corp.example", "127.0.0.1"]; empty: public addresses only.
    egress_allow: list[str] = Field(default_factory=list)
    # Whether workspaces may register stdio MCP servers: commands this host
    # runs as the platform's own user. Off, only streamable HTTP servers
    # (a URL) can be registered; any workspace's admin could run programs here otherwise.
    mcp_stdio: bool = False

    @field_validator("worker_roles")
    @classmethod
    def _roles_are_slugs(cls, value: str) -> str:
        bad = [r for r in _split(value) if not ROLE_NAME.match(r)]
        if bad:
            raise ValueError(
                f"{', '.join(map(repr, bad))} is not a role name "
                "(lower-case letters, digits and '-', starting with a letter)"
            )
        return value

    @field_validator("memory_embeddings")
    @classmethod
    def _embeddings_are_known(cls, value: str) -> str:
        text = value.strip()
        if text and not _EMBEDDINGS.match(text):
            raise ValueError(
                f"SWARMYARD_MEMORY_EMBEDDINGS={text!r} is not '' (off), 'hashing' or "
                "'openai:<model>' (e.g. openai:text-embedding-3-small, openai:nomic-embed-text)"
            )
        return text

    @field_validator("memory_embeddings_base_url")
    @classmethod
    def _embeddings_url_is_http(cls, value: str) -> str:
        text = value.strip()
        if text and not re.match(r"^https?://[^\s/]+", text):
            raise ValueError(
                f"SWARMYARD_MEMORY_EMBEDDINGS_BASE_URL={text!r} is not an http:// or https:// "
                "URL (the API root, e.g. http://localhost:11434/v1)"
            )
        return text

    @field_validator(
        "kubernetes_token_file", "kubernetes_ca_file", "kubernetes_projects_root", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("kubernetes_namespace")
    @classmethod
    def _namespace_is_a_label(cls, value: str) -> str:
        if value and not _DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not a Kubernetes namespace name (a DNS-1123 label)")
        return value

    @field_validator("kubernetes_projects_claim")
    @classmethod
    def _claim_is_a_name(cls, value: str) -> str:
        if value and not _DNS_SUBDOMAIN.match(value):
            raise ValueError(
                f"{value!r} is not a PersistentVolumeClaim name (a DNS-1123 subdomain)"
            )
        return value

    @field_validator("kubernetes_api_url")
    @classmethod
    def _api_is_http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL of an API server")
        return value

    @field_validator("kubernetes_image")
    @classmethod
    def _image_is_one_word(cls, value: str) -> str:
        if value != value.strip() or any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not an image reference (no spaces)")
        return value

    @field_validator("kubernetes_projects_root")
    @classmethod
    def _root_is_absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError(f"{value} is not an absolute path")
        return value

    @model_validator(mode="after")
    def _kubernetes_is_complete(self) -> Self:
        if self.sandbox == "kubernetes" and not self.kubernetes_image:
            raise ValueError(
                "SWARMYARD_SANDBOX=kubernetes needs SWARMYARD_KUBERNETES_IMAGE, "
                "the image the commands run in"
            )
        if self.kubernetes_projects_claim and self.kubernetes_projects_root is None:
            raise ValueError(
                "SWARMYARD_KUBERNETES_PROJECTS_CLAIM needs SWARMYARD_KUBERNETES_PROJECTS_ROOT, "
                "where this process sees that volume"
            )
        return self

    @property
    def memory_embeddings_choice(self) -> tuple[Literal["hashing", "openai"], str] | None:
        """(kind, model) of the memory embedder, or None for none."""
        if not self.memory_embeddings:
            return None
        if self.memory_embeddings == "hashing":
            return "hashing", ""
        return "openai", self.memory_embeddings.partition(":")[2]

    @property
    def memory_embeddings_endpoint(self) -> tuple[str, str]:
        """(base URL, API key) of an OpenAI-compatible embedder. The chat
        endpoint's key goes only to the chat endpoint itself."""
        if self.memory_embeddings_base_url:
            return self.memory_embeddings_base_url, self.memory_embeddings_api_key
        key = self.memory_embeddings_api_key or self.openai_api_key
        return self.openai_base_url, key

    @property
    def worker_role_list(self) -> list[str]:
        return _split(self.worker_roles)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'swarmyard.db'}"

    @property
    def embedded_bus(self) -> bool:
        return self.bus_url in ("", "memory", "memory://")

    def cluster_problem(self, process: str) -> str | None:
        """Why these settings cannot run `swarmyard <process>`, one part of a
        cluster, or None. Processes on the in-process bus would not see each
        other's messages (a worker would never hear of a run)."""
        if self.embedded_bus:
            return (
                f"`swarmyard {process}` is one part of a cluster and needs a shared bus: "
                "set SWARMYARD_BUS_URL=nats://host:4222 (on the in-process bus separate "
                "processes cannot see each other; `swarmyard serve` runs everything in one "
                "process)"
            )
        if not self.secret_key:
            return (
                f"`swarmyard {process}` is one part of a cluster: set SWARMYARD_SECRET_KEY to "
                "the same secret in every process (e.g. `openssl rand -hex 32`), or a token "
                "one process signs is refused by the others"
            )
        return None


def _split(roles: str) -> list[str]:
    return list(dict.fromkeys(r.strip() for r in roles.split(",") if r.strip()))
