"""Batched prices over real HTTP: Jupiter's Price API v3 (a local fake), in batches of 50 ids within the shared
rate limit, and the `prices(mints)` of every price source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.pricing.jupiter import SOL_MINT, JupiterClient, RateLimitedError
from app.pricing.ratelimit import SharedRateLimiter
from app.pricing.sources import JupiterPriceSource, PriceUnavailable, metrics_source, sim_source
from tests.factories import mint_for
from tests.fakes.jupiter_server import PRICE_PATH, FakeJupiter

MINTS = [mint_for(f"price-{i}") for i in range(120)]


@pytest.fixture
def jupiter():
    with FakeJupiter() as fake:
        for index, mint in enumerate(MINTS):
            fake.set_price(mint, Decimal(index + 1) / 1000, 6)
        yield fake


def client(fake: FakeJupiter, **options) -> JupiterClient:
    return JupiterClient(fake.base_url, options.pop("api_key", None), price_url=fake.price_url, timeout=2.0,
                         sleep=lambda seconds: None, **options)


def price_requests(fake: FakeJupiter) -> list[list[str]]:
    return [query["ids"].split(",") for path, query, _ in fake.requests if path == PRICE_PATH]


def test_120_mints_are_priced_in_three_requests_of_at_most_50_ids_each_with_sol(jupiter):
    prices = client(jupiter).prices(MINTS)
    assert prices == {mint: Decimal(str(float(Decimal(i + 1) / 1000 * 150))) / Decimal("150.0")
                      for i, mint in enumerate(MINTS)}
    batches = price_requests(jupiter)
    assert [len(ids) for ids in batches] == [50, 50, 23] and all(ids[-1] == SOL_MINT for ids in batches)
    assert [mint for ids in batches for mint in ids if mint != SOL_MINT] == MINTS


def test_an_unpriced_mint_is_absent_and_the_others_are_priced(jupiter):
    jupiter.set_unpriced(MINTS[1])
    prices = client(jupiter).prices(MINTS[:3])
    assert set(prices) == {MINTS[0], MINTS[2]}


def test_the_api_key_is_sent_and_each_request_takes_a_shared_limiter_slot(jupiter, redis_conn):
    jupiter.require_api_key("k-123")
    limiter = SharedRateLimiter(redis_conn, "jupiter:prices-test", 2)
    priced = client(jupiter, api_key="k-123", limiter=limiter, max_limiter_wait=0.0)
    assert len(priced.prices(MINTS[:98])) == 98  # two requests: the budget of 2 per minute is used up
    with pytest.raises(RateLimitedError, match="budget used up locally"):
        priced.prices(MINTS[:1])
    assert len(price_requests(jupiter)) == 2


def test_the_jupiter_source_reports_a_failed_answer_as_no_price(jupiter):
    jupiter.fail_next(500, times=4)
    with pytest.raises(PriceUnavailable, match="jupiter prices"):
        JupiterPriceSource(client(jupiter)).prices(MINTS[:2])


def test_sim_and_metrics_sources_batch_the_prices_their_quotes_use():
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    sim = sim_source(7, lambda: at)
    assert sim.prices(MINTS[:3]) == {mint: Decimal(sim.quote_sell(mint, 6, 10**6).details["price_sol"])
                                     for mint in MINTS[:3]}
    stored = {MINTS[0]: (Decimal("0.5"), at), MINTS[1]: (Decimal("0.7"), at - timedelta(hours=1))}
    metrics = metrics_source(stored.get, timedelta(minutes=5), lambda: at)
    assert metrics.prices(MINTS[:3]) == {MINTS[0]: Decimal("0.5")}  # stale and missing prices are left out
