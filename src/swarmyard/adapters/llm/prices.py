"""Public list prices of OpenAI's, Anthropic's and Google's models.

Budgets need a price for every call, and most people will not type in the
price of each model they use. genai-prices (the table pydantic-ai prices
with) knows the big vendors' models, tiers included. We only ever read the
snapshot bundled with the installed package: never `UpdatePrices`, so
pricing a call makes no network request and gives the same answer offline.
A price the table lacks (a new model, a vendor it does not cover) is None,
and the caller falls back to the price configured on the model.

genai-prices is imported on first use: a process that never prices a call
does not load its data.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from ...ports import TablePrice

if TYPE_CHECKING:
    from genai_prices.types import PriceCalculation, TieredPrices

__all__ = ["GenaiPriceTable"]

# Our provider kinds -> genai-prices' provider ids. Other kinds (Ollama,
# OpenAI-compatible servers, the offline model) have no public price.
_PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}
_MICRO = Decimal(1_000_000)


class GenaiPriceTable:
    """`PriceTable` backed by genai-prices' bundled data."""

    def price(self, provider_kind: str, model: str) -> TablePrice | None:
        calculation = _calculate(provider_kind, model, 0, 0, 0)
        if calculation is None:
            return None
        prices = calculation.model_price
        input_price = _highest(prices.input_mtok)
        # Without a cache price, genai-prices bills cached tokens as input.
        cached = prices.cache_read_mtok
        return TablePrice(
            input_per_mtok=input_price,
            output_per_mtok=_highest(prices.output_mtok),
            cached_input_per_mtok=input_price if cached is None else _highest(cached),
        )

    def cost_microusd(
        self, provider_kind: str, model: str, *, tokens_in: int, tokens_out: int, tokens_cached: int
    ) -> int | None:
        if min(tokens_in, tokens_out, tokens_cached) < 0 or tokens_cached > tokens_in:
            raise ValueError(
                "token counts must be >= 0 and tokens_cached part of tokens_in, got "
                f"in={tokens_in} out={tokens_out} cached={tokens_cached}"
            )
        calculation = _calculate(provider_kind, model, tokens_in, tokens_out, tokens_cached)
        if calculation is None:
            return None
        micro = (calculation.total_price * _MICRO).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(micro)


def _calculate(
    provider_kind: str, model: str, tokens_in: int, tokens_out: int, tokens_cached: int
) -> PriceCalculation | None:
    provider_id = _PROVIDER_IDS.get(str(provider_kind))
    if provider_id is None:
        return None
    from genai_prices import Usage, calc_price  # noqa: PLC0415 (its data loads on first use)

    usage = Usage(input_tokens=tokens_in, output_tokens=tokens_out, cache_read_tokens=tokens_cached)
    try:
        return calc_price(usage, model_ref=model, provider_id=provider_id)
    except LookupError:  # a model (or provider) the table does not know
        return None


def _highest(price: Decimal | TieredPrices | None) -> float:
    """USD per Mtok; for a tiered price its highest tier (the worst case a
    reservation must cover)."""
    from genai_prices.types import TieredPrices  # noqa: PLC0415

    if price is None:
        return 0.0
    if isinstance(price, TieredPrices):
        return float(max([price.base, *(tier.price for tier in price.tiers)]))
    return float(price)
