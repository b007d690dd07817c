"""Price sources behind one interface: Jupiter quotes, stored coin metrics, or the simulated market."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from app.core.paper import lamports_for_tokens, tokens_for_lamports
from app.core.sim import sim_price


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


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


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
