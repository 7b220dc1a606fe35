"""The local model's client over a stand-in server handle and the loopback
fake provider: it asks the supervisor for a running server before each call,
follows a restarted server to its new address, counts a stream's output
tokens when the server reports none, and stops the server when closed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swarmyard.adapters.llm import ClientFactory, ModelUnavailable
from swarmyard.adapters.llm.local import LocalModel
from swarmyard.domain import ModelSpec, ProviderKind, ProviderSpec
from swarmyard.ports import ModelCall
from swarmyard.testing.providers import FakeProviderServer, Reply


class StandInServer:
    """A `ServerHandle` pointing at a URL the test chooses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.asked = 0
        self.stopped = False

    async def ensure_running(self) -> str:
        if self.stopped:
            raise ModelUnavailable("stopped", provider="local", model="tiny", retryable=False)
        self.asked += 1
        return self.url

    async def stop(self) -> None:
        self.stopped = True


async def test_each_call_makes_sure_the_server_runs(
    fake_provider: FakeProviderServer, ask: Callable[..., ModelCall]
) -> None:
    server = StandInServer(fake_provider.openai_base_url)
    model = LocalModel(model="tiny", server=server)
    fake_provider.enqueue(Reply("Hello there.", input_tokens=21, output_tokens=4))

    response = await model.request(ask())

    assert response.text == "Hello there."
    assert (response.usage.input_tokens, response.usage.output_tokens) == (21, 4)
    assert server.asked == 1
    (seen,) = fake_provider.requests_for("openai")
    assert seen.body["model"] == "tiny"
    await model.aclose()
    assert server.stopped


async def test_a_restarted_server_is_followed_to_its_new_port(
    fake_provider: FakeProviderServer, ask: Callable[..., ModelCall]
) -> None:
    async with FakeProviderServer() as second:
        server = StandInServer(fake_provider.openai_base_url)
        model = LocalModel(model="tiny", server=server)
        fake_provider.enqueue(Reply("first"))
        second.enqueue(Reply("second"))
        assert (await model.request(ask())).text == "first"

        server.url = second.openai_base_url  # as after a restart on another port
        assert (await model.request(ask())).text == "second"
        assert len(second.requests_for("openai")) == 1
        await model.aclose()


async def test_a_stream_without_usage_counts_its_chunks(
    fake_provider: FakeProviderServer, ask: Callable[..., ModelCall]
) -> None:
    # llama.cpp's server sends one chunk per token and reports no usage on streams.
    model = LocalModel(model="tiny", server=StandInServer(fake_provider.openai_base_url))
    fake_provider.enqueue(Reply("one two three", input_tokens=0, output_tokens=0))

    items = [item async for item in model.stream(ask())]

    *deltas, response = items
    assert "".join(str(d) for d in deltas) == "one two three"
    assert response.usage.output_tokens == len(deltas)
    await model.aclose()


async def test_a_stream_with_usage_keeps_the_servers_count(
    fake_provider: FakeProviderServer, ask: Callable[..., ModelCall]
) -> None:
    model = LocalModel(model="tiny", server=StandInServer(fake_provider.openai_base_url))
    fake_provider.enqueue(Reply("one two three", input_tokens=9, output_tokens=7))
    *_, response = [item async for item in model.stream(ask())]
    assert response.usage.output_tokens == 7
    await model.aclose()


async def test_the_factory_builds_a_local_client_for_the_named_file(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    provider = ProviderSpec(
        name="local",
        kind=ProviderKind.LOCAL,
        model_file=str(gguf),
        models=[ModelSpec(name="tiny", tool_calls=False)],
    )
    factory = ClientFactory()
    client = factory.client(provider, provider.models[0])
    assert isinstance(client, LocalModel)
    assert (client.provider, client.model_name, client.offline) == ("local", "tiny", False)
    assert client.server.model_file == gguf  # type: ignore[attr-defined]
    assert factory.client(provider, provider.models[0]) is client
    await factory.aclose()  # stops a server that never started: nothing to do


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"base_url": "http://127.0.0.1:8080/v1"}, "takes no base_url"),
        ({"models": [{"name": "a"}, {"name": "b"}]}, "exactly one model"),
    ],
)
def test_a_local_provider_is_one_file_started_by_the_platform(
    body: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        ProviderSpec.model_validate(
            {"name": "local", "kind": "local", "models": [{"name": "a"}]} | body
        )


def test_only_local_providers_name_a_model_file() -> None:
    with pytest.raises(ValueError, match="model_file is for providers of kind 'local'"):
        ProviderSpec(
            name="vllm",
            kind=ProviderKind.OPENAI_COMPATIBLE,
            base_url="http://127.0.0.1:8000/v1",
            model_file="/x.gguf",
            models=[ModelSpec(name="m")],
        )


def test_a_local_provider_is_free_and_local() -> None:
    spec = ProviderSpec(name="local", kind=ProviderKind.LOCAL, models=[ModelSpec(name="m")])
    assert spec.is_local
