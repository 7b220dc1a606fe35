"""How a process assembles its models: the platform file, the older
SWARMYARD_OPENAI_* settings, start-up refusals, and lazy SDK imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swarmyard.adapters.llm import ModelConfigurationError
from swarmyard.config_file import parse_platform_file
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.runtime.wiring import build
from swarmyard.testing import embedded_settings


async def refs(tmp_path: Path, platform: object = None, **settings: object) -> list[str]:
    c = build(embedded_settings(tmp_path, **settings), platform=platform)  # type: ignore[arg-type]
    await c.store.migrate()
    from swarmyard.runtime.wiring import ensure_default_workspace

    await ensure_default_workspace(c.store, c.deps.clock)
    try:
        snap = await c.router.directory.snapshot(WS)
        return [cand.ref for cand in snap.candidates]
    finally:
        await c.models.aclose()
        await c.store.close()


async def test_with_nothing_set_the_offline_model_serves_everyone(tmp_path: Path) -> None:
    assert await refs(tmp_path) == ["offline:swarmyard-offline-1"]


async def test_the_openai_settings_become_a_provider_before_offline(
    tmp_path: Path,
) -> None:
    found = await refs(tmp_path, openai_base_url="http://127.0.0.1:11434/v1", model="llama3.1")
    assert found == ["openai-compatible:llama3.1", "offline:swarmyard-offline-1"]


def test_an_endpoint_without_a_model_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ModelConfigurationError, match="SWARMYARD_MODEL"):
        build(embedded_settings(tmp_path, openai_base_url="http://127.0.0.1:11434/v1"))


def test_a_model_without_a_price_stops_the_start(tmp_path: Path) -> None:
    platform = parse_platform_file(
        {
            "providers": {
                "vllm": {
                    "kind": "openai-compatible",
                    "base_url": "https://gpu.example.com/v1",
                    "models": [{"name": "qwen-72b"}],
                }
            }
        }
    )
    with pytest.raises(ModelConfigurationError, match=r"no price is known for vllm:qwen-72b"):
        build(embedded_settings(tmp_path), platform=platform)


async def test_the_offline_fallback_can_be_turned_off(tmp_path: Path) -> None:
    platform = parse_platform_file(
        {
            "router": {"offline_fallback": False},
            "providers": {
                "ollama": {
                    "kind": "ollama",
                    "base_url": "http://127.0.0.1:11434/v1",
                    "models": [{"name": "llama3.1", "tier": "fast"}],
                }
            },
        }
    )
    assert await refs(tmp_path, platform) == ["ollama:llama3.1"]


def test_wiring_a_process_does_not_import_the_sdks() -> None:
    code = (
        "import sys\n"
        "import swarmyard.adapters.llm as llm\n"
        "from swarmyard.runtime import wiring\n"
        "for name in ('openai', 'anthropic', 'google.genai'):\n"
        "    assert name not in sys.modules, name\n"
        "llm.OfflineModel\n"
        "assert 'pydantic_ai' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
