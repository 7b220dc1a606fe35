"""The public price table: the prices and costs genai-prices computes, in
our units (USD per Mtok, integer µUSD), from its bundled data only."""

from __future__ import annotations

import socket
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from swarmyard.adapters.llm import GenaiPriceTable
from swarmyard.ports import PriceTable, TablePrice

KNOWN = [
    ("openai", "openai", "gpt-4o"),
    ("anthropic", "anthropic", "claude-sonnet-4-5"),  # tiered (long context)
    ("gemini", "google", "gemini-2.5-pro"),  # tiered above 200k prompt tokens
]


@pytest.fixture
def table() -> GenaiPriceTable:
    return GenaiPriceTable()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pricing never updates its data over the network: any connection fails."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the price table opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_implements_the_port(table: GenaiPriceTable) -> None:
    port: PriceTable = table
    assert port.price("openai", "gpt-4o") is not None


@pytest.mark.parametrize(("kind", "provider_id", "model"), KNOWN)
@pytest.mark.parametrize(
    "usage", [(1000, 100, 200), (0, 0, 0), (350_000, 4000, 100_000), (7, 3, 0)]
)
def test_cost_is_what_genai_prices_computes(
    table: GenaiPriceTable, kind: str, provider_id: str, model: str, usage: tuple[int, int, int]
) -> None:
    tokens_in, tokens_out, tokens_cached = usage
    expected = calc_price(
        Usage(input_tokens=tokens_in, output_tokens=tokens_out, cache_read_tokens=tokens_cached),
        model_ref=model,
        provider_id=provider_id,
    ).total_price
    micro = int((expected * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    cost = table.cost_microusd(
        kind, model, tokens_in=tokens_in, tokens_out=tokens_out, tokens_cached=tokens_cached
    )
    assert cost == micro


def test_gpt_4o_cost_by_hand(table: GenaiPriceTable) -> None:
    # $2.50/Mtok input, $1.25/Mtok cached input, $10/Mtok output.
    cost = table.cost_microusd(
        "openai", "gpt-4o", tokens_in=1000, tokens_out=100, tokens_cached=200
    )
    assert cost == 800 * 2.5 + 200 * 1.25 + 100 * 10
    # One input token is 2.5 µUSD: rounded half up.
    assert table.cost_microusd("openai", "gpt-4o", tokens_in=1, tokens_out=0, tokens_cached=0) == 3


def test_plain_price_per_mtok(table: GenaiPriceTable) -> None:
    assert table.price("openai", "gpt-4o") == TablePrice(
        input_per_mtok=2.5, output_per_mtok=10.0, cached_input_per_mtok=1.25
    )


@pytest.mark.parametrize(("kind", "provider_id", "model"), KNOWN)
def test_tiered_prices_give_the_highest_tier(
    table: GenaiPriceTable, kind: str, provider_id: str, model: str
) -> None:
    # A prompt of 10M tokens is above every tier: genai-prices bills all of it at the top rate.
    big = 10_000_000
    top_in = calc_price(Usage(input_tokens=big), model_ref=model, provider_id=provider_id)
    top_out = calc_price(
        Usage(input_tokens=big, output_tokens=big), model_ref=model, provider_id=provider_id
    )
    top_cached = calc_price(
        Usage(input_tokens=big, cache_read_tokens=big), model_ref=model, provider_id=provider_id
    )
    price = table.price(kind, model)
    assert price is not None
    assert price.input_per_mtok == pytest.approx(float(top_in.input_price) / 10)
    assert price.output_per_mtok == pytest.approx(float(top_out.output_price) / 10)
    assert price.cached_input_per_mtok == pytest.approx(float(top_cached.input_price) / 10)


def test_a_model_without_a_cache_price_prices_cached_tokens_as_input(
    table: GenaiPriceTable,
) -> None:
    price = table.price("gemini", "gemini-1.5-pro")
    assert price is not None
    assert price.cached_input_per_mtok == price.input_per_mtok


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("openai", "no-such-model-xyz"),
        ("anthropic", "claude-nonexistent-9"),
        ("gemini", "gemini-0.1-imaginary"),
        ("openai-compatible", "gpt-4o"),  # an endpoint's own prices are unknown
        ("ollama", "llama3.1"),
        ("offline", "swarmyard-offline-1"),
    ],
)
def test_unknown_models_and_vendors_have_no_price(
    table: GenaiPriceTable, kind: str, model: str
) -> None:
    assert table.price(kind, model) is None
    assert table.cost_microusd(kind, model, tokens_in=10, tokens_out=10, tokens_cached=0) is None


@pytest.mark.parametrize(("tokens_in", "tokens_out", "tokens_cached"), [(-1, 0, 0), (10, 0, 11)])
def test_impossible_usage_is_refused(
    table: GenaiPriceTable, tokens_in: int, tokens_out: int, tokens_cached: int
) -> None:
    with pytest.raises(ValueError, match="tokens_cached"):
        table.cost_microusd(
            "openai",
            "gpt-4o",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            tokens_cached=tokens_cached,
        )
