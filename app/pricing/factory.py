"""Build the configured price source for a process (and, for `metrics`, a connection)."""

from __future__ import annotations

from datetime import timedelta

import redis
from psycopg import Connection

from app.config import Config, PriceSource
from app.pricing import sources
from app.pricing.sources import Clock, PriceUnavailable, Quote, utc_now


class JupiterPriceSource:
    """Jupiter Swap API v1 quotes: SOL -> mint for buys, mint -> SOL for sells."""

    name = "jupiter"

    def __init__(self, client):
        self._client = client

    def quote_buy(self, mint: str, decimals: int, lamports: int) -> Quote:
        """Raw tokens out for lamports in, as Jupiter quotes it."""
        from app.pricing.jupiter import SOL_MINT

        return self._quote(SOL_MINT, mint, lamports)

    def quote_sell(self, mint: str, decimals: int, tokens_raw: int) -> Quote:
        """Lamports out for raw tokens in, as Jupiter quotes it."""
        from app.pricing.jupiter import SOL_MINT

        return self._quote(mint, SOL_MINT, tokens_raw)

    def _quote(self, input_mint: str, output_mint: str, amount: int) -> Quote:
        from app.pricing.jupiter import JupiterError

        try:
            quote = self._client.quote(input_mint, output_mint, amount)
        except JupiterError as exc:
            raise PriceUnavailable(f"jupiter: {exc}") from exc
        details = {"price_impact_pct": str(quote.price_impact_pct), "slippage_bps": quote.slippage_bps}
        return Quote(quote.in_amount, quote.out_amount, self.name, details)


_jupiter_clients: dict[int, object] = {}


def price_source(config: Config, conn: Connection, redis_conn: redis.Redis, clock: Clock = utc_now):
    """The price source PRICE_SOURCE names, ready to quote."""
    if config.price_source is PriceSource.SIM:
        return sources.sim_source(config.sim_seed, clock)
    if config.price_source is PriceSource.METRICS:
        from app.repos import coin_metrics

        def latest(mint: str):
            point = coin_metrics.latest_point(conn, mint)
            return None if point is None else (point["price_sol"], point["ts"])

        return sources.metrics_source(latest, timedelta(seconds=config.price_max_staleness_seconds), clock)
    return JupiterPriceSource(_jupiter_client(config, redis_conn))


def _jupiter_client(config: Config, redis_conn: redis.Redis):
    from app.pricing.jupiter import from_config

    key = id(redis_conn)
    if key not in _jupiter_clients:
        _jupiter_clients[key] = from_config(config, redis_conn)
    return _jupiter_clients[key]
