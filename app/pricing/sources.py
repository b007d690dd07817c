"""Price sources behind one interface: Jupiter quotes, stored coin metrics, or the simulated market."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from app.core.clock import Clock, utc_now
from app.core.paper import lamports_for_tokens, price_per_token, tokens_for_lamports
from app.core.sim import sim_price
from app.pricing.jupiter import SOL_MINT, JupiterClient, JupiterError


class PriceUnavailable(Exception):
    """No usable price right now: record the message, do not trade."""


@dataclass(frozen=True)
class Quote:
    """An amount out for an amount in, with where it came from."""

    amount_in: int
    amount_out: int
    source: str
    details: dict[str, Any]


class PriceSource(Protocol):
    """Quotes in raw units: lamports -> raw tokens (buy) and raw tokens -> lamports (sell)."""

    name: str

    def quote_buy(self, mint: str, decimals: int, lamports: int) -> Quote:
        """Raw tokens received for `lamports` SOL."""
        ...

    def quote_sell(self, mint: str, decimals: int, tokens_raw: int) -> Quote:
        """Lamports received for `tokens_raw` tokens."""
        ...

    def prices(self, mints: Sequence[str]) -> dict[str, Decimal]:
        """SOL per whole token of each mint that has a price now, at once (mints without one are absent)."""
        ...


def quoted_price(source: PriceSource, mint: str, decimals: int, tokens_raw: int) -> Decimal:
    """SOL per whole token that selling `tokens_raw` would fetch now (PriceUnavailable when nothing)."""
    return sell_quote_price(source, mint, decimals, tokens_raw)[1]


def sell_quote_price(source: PriceSource, mint: str, decimals: int, tokens_raw: int) -> tuple[Quote, Decimal]:
    """The sell quote for `tokens_raw` and the SOL per whole token it fetches (PriceUnavailable when nothing)."""
    quote = source.quote_sell(mint, decimals, tokens_raw)
    if quote.amount_out <= 0:
        raise PriceUnavailable(f"quote for {mint} returns no SOL")
    return quote, price_per_token(quote.amount_out, tokens_raw, decimals)


def stated_price(quote: Quote, implied: Decimal) -> Decimal:
    """The price to record for a quote: the source's own SOL per whole token when it states one (sim, metrics,
    recorded prices quote from an exact price), else the price its raw amounts imply (Jupiter).

    Recording the exact price, not the lamport-rounded one, is what lets a replay quote the same raw amounts.
    """
    stated = quote.details.get("price_sol")
    return implied if stated is None else Decimal(stated)


class FixedPriceSource:
    """Quotes from a price per whole token supplied by `price_of(mint) -> (price_sol, details)`."""

    def __init__(self, name: str, price_of: Callable[[str], tuple[Decimal, dict[str, Any]]]):
        self.name = name
        self._price_of = price_of

    def quote_buy(self, mint: str, decimals: int, lamports: int) -> Quote:
        """Raw tokens for lamports at the current price."""
        price, details = self._price_of(mint)
        out = tokens_for_lamports(lamports, price, decimals)
        return Quote(lamports, out, self.name, {**details, "price_sol": format(price, "f")})

    def quote_sell(self, mint: str, decimals: int, tokens_raw: int) -> Quote:
        """Lamports for raw tokens at the current price."""
        price, details = self._price_of(mint)
        out = lamports_for_tokens(tokens_raw, price, decimals)
        return Quote(tokens_raw, out, self.name, {**details, "price_sol": format(price, "f")})

    def prices(self, mints: Sequence[str]) -> dict[str, Decimal]:
        """The current price of each mint that has one (the same price its quotes use)."""
        found: dict[str, Decimal] = {}
        for mint in dict.fromkeys(mints):
            try:
                found[mint] = self._price_of(mint)[0]
            except PriceUnavailable:
                continue
        return found


def sim_source(seed: int, clock: Clock = utc_now) -> FixedPriceSource:
    """The deterministic simulated market."""
    def price_of(mint: str) -> tuple[Decimal, dict[str, Any]]:
        at = clock()
        return sim_price(mint, at, seed), {"at": at.isoformat(), "seed": seed}
    return FixedPriceSource("sim", price_of)


def metrics_source(latest_metric: Callable[[str], tuple[Decimal, datetime] | None], max_staleness: timedelta,
                   clock: Clock = utc_now) -> FixedPriceSource:
    """The latest stored coin metric's price_sol, refused when missing or older than max_staleness."""
    def price_of(mint: str) -> tuple[Decimal, dict[str, Any]]:
        latest = latest_metric(mint)
        if latest is None:
            raise PriceUnavailable(f"no coin metrics stored for {mint}")
        price, ts = latest
        age = clock() - ts
        if age > max_staleness:
            raise PriceUnavailable(f"latest price of {mint} is {age.total_seconds():.0f}s old "
                                   f"(limit {max_staleness.total_seconds():.0f}s)")
        return price, {"metric_ts": ts.isoformat()}
    return FixedPriceSource("metrics", price_of)


class JupiterPriceSource:
    """Jupiter Swap API v1 quotes: SOL -> mint for buys, mint -> SOL for sells."""

    name = "jupiter"

    def __init__(self, client: JupiterClient):
        self._client = client

    def quote_buy(self, mint: str, decimals: int, lamports: int) -> Quote:
        """Raw tokens out for lamports in, as Jupiter quotes it."""
        return self._quote(SOL_MINT, mint, lamports)

    def quote_sell(self, mint: str, decimals: int, tokens_raw: int) -> Quote:
        """Lamports out for raw tokens in, as Jupiter quotes it."""
        return self._quote(mint, SOL_MINT, tokens_raw)

    def prices(self, mints: Sequence[str]) -> dict[str, Decimal]:
        """Jupiter's Price API v3 prices in SOL (batched, 49 mints a request); PriceUnavailable when it fails."""
        try:
            return self._client.prices(mints)
        except JupiterError as exc:
            raise PriceUnavailable(f"jupiter prices: {exc}") from exc

    def _quote(self, input_mint: str, output_mint: str, amount: int) -> Quote:
        try:
            quote = self._client.quote(input_mint, output_mint, amount)
        except JupiterError as exc:
            raise PriceUnavailable(f"jupiter: {exc}") from exc
        details = {"price_impact_pct": str(quote.price_impact_pct), "slippage_bps": quote.slippage_bps}
        return Quote(quote.in_amount, quote.out_amount, self.name, details)
