"""The default model selector, and the promise that wiring a process with it
does not import pydantic-ai."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from swarmyard.adapters.llm import (
    DefaultModelSelector,
    ModelConfigurationError,
    OfflineModel,
    OpenAICompatibleModel,
)
from swarmyard.config import Settings
from swarmyard.domain import AgentManifest, Task
from swarmyard.domain.manifest import Capability


def settings(**values: Any) -> Settings:
    return Settings(data_dir=Path("/nonexistent-swarmyard"), **values)


def task() -> Task:
    return Task(
        id="t1",
        workspace_id="w1",
        title="X",
        type="feature",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def manifest(role: str) -> AgentManifest:
    return AgentManifest(
        id=role,
        name=role.title(),
        version="1.0.0",
        role=role,
        capabilities=[Capability(id="main", name="Main")],
        system_prompt="You are helpful.",
    )


def test_offline_without_an_endpoint() -> None:
    selector = DefaultModelSelector(settings(offline_delay_ms=25))
    client = selector.select("architect", task(), manifest("architect"))
    assert isinstance(client, OfflineModel)
    assert client.offline
    assert client.delay_ms == 25
    assert selector.select("tester", task(), manifest("tester")) is client, "built once, reused"


async def test_endpoint_with_model() -> None:
    selector = DefaultModelSelector(
        settings(openai_base_url="http://127.0.0.1:11434/v1", model="llama3.1")
    )
    client = selector.select("developer", task(), manifest("developer"))
    assert isinstance(client, OpenAICompatibleModel)
    assert client.model_name == "llama3.1"
    assert not client.offline
    assert selector.select("tester", task(), manifest("tester")) is client
    await selector.aclose()


def test_endpoint_without_model_names_the_variable() -> None:
    with pytest.raises(ModelConfigurationError, match="SWARMYARD_MODEL"):
        DefaultModelSelector(settings(openai_base_url="http://127.0.0.1:11434/v1"))


def test_importing_the_package_does_not_import_pydantic_ai() -> None:
    code = (
        "import sys\n"
        "import swarmyard.adapters.llm as llm\n"
        "from swarmyard.adapters.llm import DefaultModelSelector, ModelError\n"
        "assert 'pydantic_ai' not in sys.modules\n"
        "assert 'openai' not in sys.modules\n"
        "llm.OfflineModel\n"
        "assert 'pydantic_ai' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
