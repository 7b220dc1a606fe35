"""The platform file (swarmyard.toml): what it accepts, and how it names mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmyard.config_file import find_platform_file, load_platform_file, parse_platform_file
from swarmyard.domain import ModelTier, ProviderKind, ValidationFailed

GOOD = """
[router]
breaker_threshold = 3

[providers.openai]
kind = "openai"
api_key_env = "OPENAI_API_KEY"
models = [
  { name = "gpt-4o-mini", tier = "fast" },
  { name = "gpt-4o", tier = "premium", max_output_tokens = 2048 },
]

[providers.ollama]
kind = "ollama"
base_url = "http://127.0.0.1:11434/v1"
models = [{ name = "llama3.1", tier = "mid" }]

[[routing.rules]]
name = "critical work"
when = { complexity = ["critical"] }
tier = "premium"

[prices."ollama:llama3.1"]
input_per_mtok = 0.0
output_per_mtok = 0.0
"""


def problems(text: str, tmp_path: Path) -> list[tuple[str, str]]:
    path = tmp_path / "swarmyard.toml"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as err:
        load_platform_file(path)
    return [(p.path, p.reason) for p in err.value.problems]


def test_a_full_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "swarmyard.toml"
    path.write_text(GOOD)
    cfg = load_platform_file(path)
    assert cfg.router.breaker_threshold == 3
    assert cfg.providers["openai"].kind is ProviderKind.OPENAI
    assert cfg.providers["openai"].models[1].tier is ModelTier.PREMIUM
    assert cfg.providers["ollama"].is_local
    assert cfg.routing is not None
    assert cfg.routing.rules[0].name == "critical work"
    assert cfg.source == str(path)


def test_no_file_is_an_empty_configuration() -> None:
    cfg = load_platform_file(None)
    assert cfg.providers == {}
    # Unset: the offline model ends the chains unless the free local tier does.
    assert cfg.router.offline_fallback is None


def test_every_mistake_is_named_by_its_place(tmp_path: Path) -> None:
    found = problems(
        """
[router]
breaker_treshold = 3

[providers.openai]
kind = "openia"
models = []

[providers.vllm]
kind = "openai-compatible"
models = [{ name = "m", tier = "huge" }]
""",
        tmp_path,
    )
    paths = dict(found)
    assert "did you mean 'breaker_threshold'" in paths["router.breaker_treshold"]
    assert "providers.openai.kind" in paths
    assert "'premium'" in paths["providers.vllm.models.0.tier"]
    # Once its fields are right, the provider as a whole is checked.
    (whole,) = problems(
        '[providers.vllm]\nkind = "openai-compatible"\nmodels = [{ name = "m" }]\n', tmp_path
    )
    assert whole == ("providers.vllm", "a provider of kind 'openai-compatible' needs base_url")


def test_a_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    ((path, reason),) = problems("[providers.x\nkind = 1\n", tmp_path)
    assert path == ""
    assert "TOML syntax error at line 1" in reason


def test_keys_do_not_belong_in_the_file(tmp_path: Path) -> None:
    found = problems(
        '[providers.openai]\nkind = "openai"\napi_key = "sk-secret"\n'
        'models = [{ name = "gpt-4o" }]\n',
        tmp_path,
    )
    assert found[0][0] == "providers.openai.api_key"
    assert "unknown key" in found[0][1]
    assert "sk-secret" not in found[0][1]


def test_a_name_inside_must_match_the_table_key() -> None:
    with pytest.raises(ValidationFailed, match="must be the table's key"):
        parse_platform_file(
            {"providers": {"a": {"name": "b", "kind": "openai", "models": [{"name": "gpt-4o"}]}}}
        )


def test_prices_name_provider_and_model() -> None:
    with pytest.raises(ValidationFailed, match="provider:model"):
        parse_platform_file({"prices": {"llama3.1": {"input_per_mtok": 0}}})


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.chdir(tmp_path)
    assert find_platform_file(data_dir, {}) is None
    (data_dir / "swarmyard.toml").write_text("")
    assert find_platform_file(data_dir, {}) == data_dir / "swarmyard.toml"
    (tmp_path / "swarmyard.toml").write_text("")
    assert find_platform_file(data_dir, {}) == tmp_path / "swarmyard.toml"
    explicit = tmp_path / "elsewhere.toml"
    assert find_platform_file(data_dir, {"SWARMYARD_CONFIG_FILE": str(explicit)}) == explicit


def test_a_missing_explicit_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="does not exist"):
        load_platform_file(tmp_path / "nope.toml")
