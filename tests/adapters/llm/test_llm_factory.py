"""The client factory: one client per provider kind, built once per
(provider, model, key), keys from the environment, and refusing a provider
whose key is missing before any request is sent."""

from __future__ import annotations

import subprocess
import sys
import traceback
from typing import Any

import pytest

from swarmyard.adapters.llm import (
    AnthropicModel,
    ClientFactory,
    GeminiModel,
    ModelError,
    ModelRequestRejected,
    OfflineModel,
    OllamaModel,
    OpenAICompatibleModel,
    OpenAIModel,
)
from swarmyard.domain import ModelSpec, ProviderKind, ProviderSpec
from swarmyard.ports import ModelClientFactory
from swarmyard.testing.providers import FakeProviderServer, Reply

OPENAI_KEY = "sk-proj-factorytest4f9a1c77e2b0d3"
ENVIRON = {
    "OPENAI_KEY": OPENAI_KEY,
    "ANTHROPIC_KEY": "sk-ant-factorytest4f9a1c77e2",
    "GEMINI_KEY": "AIzaFactoryTest4f9a1c77e2b0d3",
}


def spec(kind: ProviderKind, name: str = "", **fields: Any) -> ProviderSpec:
    defaults: dict[str, Any] = {
        ProviderKind.OPENAI: {"api_key_env": "OPENAI_KEY"},
        ProviderKind.ANTHROPIC: {"api_key_env": "ANTHROPIC_KEY"},
        ProviderKind.GEMINI: {"api_key_env": "GEMINI_KEY"},
        ProviderKind.OLLAMA: {"base_url": "http://127.0.0.1:11434/v1"},
        ProviderKind.OPENAI_COMPATIBLE: {"base_url": "http://127.0.0.1:8000/v1"},
        ProviderKind.OFFLINE: {},
    }[kind]
    models = [ModelSpec(name=fields.pop("model", "m-1")), ModelSpec(name="m-2")]
    return ProviderSpec(
        name=name or f"my-{kind.value}", kind=kind, models=models, **{**defaults, **fields}
    )


@pytest.fixture
async def factory() -> Any:
    built = ClientFactory(offline_delay_ms=5, environ=ENVIRON)
    yield built
    await built.aclose()


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        (ProviderKind.OPENAI, OpenAIModel),
        (ProviderKind.OPENAI_COMPATIBLE, OpenAICompatibleModel),
        (ProviderKind.OLLAMA, OllamaModel),
        (ProviderKind.ANTHROPIC, AnthropicModel),
        (ProviderKind.GEMINI, GeminiModel),
        (ProviderKind.OFFLINE, OfflineModel),
    ],
)
def test_builds_the_client_of_each_kind(
    factory: ClientFactory, kind: ProviderKind, cls: type[Any]
) -> None:
    provider = spec(kind)
    client = factory.client(provider, provider.models[0])
    assert isinstance(client, cls)
    assert (client.provider, client.model_name) == (provider.name, "m-1")
    assert client.offline is (kind is ProviderKind.OFFLINE)


def test_implements_the_port() -> None:
    port: ModelClientFactory = ClientFactory()
    assert port is not None


def test_the_offline_model_gets_the_configured_delay(factory: ClientFactory) -> None:
    provider = spec(ProviderKind.OFFLINE, "builtin")
    client = factory.client(provider, provider.models[0])
    assert isinstance(client, OfflineModel)
    assert client.delay_ms == 5


def test_clients_are_built_once_per_provider_model_and_key(factory: ClientFactory) -> None:
    provider = spec(ProviderKind.OPENAI)
    first, other_model = provider.models
    client = factory.client(provider, first)
    assert factory.client(provider, first) is client
    assert factory.client(spec(ProviderKind.OPENAI), ModelSpec(name="m-1")) is client, (
        "an equal spec, rebuilt from the settings, reuses the client"
    )
    assert factory.client(provider, other_model) is not client
    assert factory.client(provider, first, api_key="sk-another-key-123456") is not client
    moved = spec(ProviderKind.OPENAI, base_url="https://proxy.example.com/v1")
    assert factory.client(moved, moved.models[0]) is not client


async def test_the_key_comes_from_the_named_environment_variable(ask: Any) -> None:
    async with FakeProviderServer() as fake:
        provider = spec(ProviderKind.OPENAI, base_url=fake.openai_base_url)
        factory = ClientFactory(environ=ENVIRON)
        fake.enqueue(Reply("from env"), Reply("given"))
        try:
            await factory.client(provider, provider.models[0]).request(ask())
            await factory.client(provider, provider.models[0], api_key="sk-given-123456").request(
                ask()
            )
        finally:
            await factory.aclose()
    assert [r.api_key for r in fake.requests] == [OPENAI_KEY, "sk-given-123456"]


@pytest.mark.parametrize(
    ("kind", "variable"),
    [
        (ProviderKind.OPENAI, "OPENAI_KEY"),
        (ProviderKind.ANTHROPIC, "ANTHROPIC_KEY"),
        (ProviderKind.GEMINI, "GEMINI_KEY"),
    ],
)
def test_a_missing_key_variable_is_named(kind: ProviderKind, variable: str) -> None:
    factory = ClientFactory(environ={"OTHER": "sk-other-secret-123456"})
    provider = spec(kind)
    with pytest.raises(ModelRequestRejected) as caught:
        factory.client(provider, provider.models[0])
    assert variable in str(caught.value)
    assert provider.name in str(caught.value)
    assert caught.value.retryable is False
    assert (caught.value.provider, caught.value.model) == (provider.name, "m-1")
    assert "sk-other" not in "".join(traceback.format_exception(caught.value))


def test_a_provider_naming_no_variable_and_given_no_key_is_refused() -> None:
    provider = spec(ProviderKind.ANTHROPIC, api_key_env=None)
    with pytest.raises(ModelRequestRejected, match="api_key_env"):
        ClientFactory(environ={}).client(provider, provider.models[0])


def test_an_empty_variable_counts_as_missing() -> None:
    provider = spec(ProviderKind.GEMINI)
    with pytest.raises(ModelRequestRejected, match="GEMINI_KEY"):
        ClientFactory(environ={"GEMINI_KEY": ""}).client(provider, provider.models[0])


@pytest.mark.parametrize("kind", [ProviderKind.OLLAMA, ProviderKind.OPENAI_COMPATIBLE])
async def test_local_servers_need_no_key(kind: ProviderKind) -> None:
    factory = ClientFactory(environ={})
    provider = spec(kind, api_key_env="UNSET_KEY")
    try:
        assert factory.client(provider, provider.models[0]).offline is False
    finally:
        await factory.aclose()


async def test_the_environment_is_read_when_a_client_is_built() -> None:
    environ: dict[str, str] = {}
    factory = ClientFactory(environ=environ)
    provider = spec(ProviderKind.OPENAI)
    with pytest.raises(ModelRequestRejected):
        factory.client(provider, provider.models[0])
    environ["OPENAI_KEY"] = OPENAI_KEY
    try:
        assert isinstance(factory.client(provider, provider.models[0]), OpenAIModel)
    finally:
        await factory.aclose()


async def test_aclose_closes_every_client_and_forgets_them(ask: Any) -> None:
    async with FakeProviderServer(default=Reply("ok")) as fake:
        factory = ClientFactory(environ=ENVIRON)
        kinds = [
            spec(ProviderKind.OPENAI, base_url=fake.openai_base_url),
            spec(ProviderKind.OLLAMA, base_url=fake.openai_base_url),
            spec(ProviderKind.ANTHROPIC, base_url=fake.anthropic_base_url),
            spec(ProviderKind.GEMINI, base_url=fake.gemini_base_url),
        ]
        clients = [factory.client(p, p.models[0]) for p in kinds]
        for client in clients:
            await client.request(ask(max_tokens=16))
        await factory.aclose()
        # A closed client cannot send again; a new one is built on demand.
        for provider, client in zip(kinds, clients, strict=True):
            # Each SDK says so its own way (a bug of the caller, not a provider failure).
            with pytest.raises((RuntimeError, ModelError), match=r"closed|could not be reached"):
                await client.request(ask(max_tokens=16))
            assert factory.client(provider, provider.models[0]) is not client
        await factory.aclose()
    assert len(fake.requests) == 4


@pytest.mark.parametrize(
    ("kind", "variable", "endpoint"),
    [
        (ProviderKind.OPENAI, "OPENAI_BASE_URL", "https://api.openai.com/v1"),
        (ProviderKind.ANTHROPIC, "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
        (
            ProviderKind.GEMINI,
            "GOOGLE_GEMINI_BASE_URL",
            "https://generativelanguage.googleapis.com/",
        ),
    ],
)
async def test_the_sdks_base_url_variables_never_redirect_a_key(
    monkeypatch: pytest.MonkeyPatch, kind: ProviderKind, variable: str, endpoint: str
) -> None:
    # Set for some other tool; the providers file is what decides where keys go.
    monkeypatch.setenv(variable, "http://attacker.example/v1")
    factory = ClientFactory(environ=ENVIRON)
    provider = spec(kind)
    try:
        client = factory.client(provider, provider.models[0])
        assert client.base_url == endpoint  # type: ignore[attr-defined]
        # Where the SDK client itself will send requests (pydantic-ai's view of it).
        sdk_url = client._model.base_url  # type: ignore[attr-defined]
        assert sdk_url.rstrip("/") == endpoint.rstrip("/")
    finally:
        await factory.aclose()


def test_sdks_load_only_when_a_client_of_their_kind_is_built() -> None:
    code = (
        "import sys\n"
        "from swarmyard.adapters.llm import ClientFactory, GenaiPriceTable\n"
        "from swarmyard.domain import ModelSpec, ProviderSpec\n"
        "vendors = ('openai', 'anthropic', 'google.genai', 'genai_prices')\n"
        "factory, table = ClientFactory(environ={}), GenaiPriceTable()\n"
        "assert not [m for m in vendors if m in sys.modules], sys.modules.keys()\n"
        "ollama = ProviderSpec(name='o', kind='ollama', base_url='http://127.0.0.1:1/v1',\n"
        "                      models=[ModelSpec(name='llama3.1')])\n"
        "factory.client(ollama, ollama.models[0])\n"
        "assert 'openai' in sys.modules\n"
        "assert 'anthropic' not in sys.modules and 'google.genai' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
