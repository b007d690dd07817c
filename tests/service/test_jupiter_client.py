"""The Jupiter quote client over real HTTP (a local fake Jupiter), and the Redis-shared rate limiter."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import redis

from app.config import load_config
from app.pricing.jupiter import (
    SOL_MINT,
    JupiterClient,
    JupiterError,
    JupiterQuote,
    JupiterUnavailableError,
    NoRouteError,
    NotTradableError,
    RateLimitedError,
    from_config,
)
from app.pricing.ratelimit import RateLimitWaitTooLong, SharedRateLimiter
from tests.fakes.jupiter_server import FakeJupiter

TOKEN6 = "Six6Decimals1111111111111111111111111111111"
TOKEN9 = "Nine9Decimals111111111111111111111111111111"
UNKNOWN = "Unknown111111111111111111111111111111111111"


class FakeClock:
    """A settable clock whose sleep advances it and records how long was slept."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def jupiter():
    with FakeJupiter() as fake:
        fake.set_price(TOKEN6, Decimal("0.000123"), 6)
        fake.set_price(TOKEN9, Decimal("2.5"), 9)
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(fake: FakeJupiter, sleeps: list[float], **overrides) -> JupiterClient:
    options = {"api_key": None, "timeout": 2.0, "max_retries": 3, "backoff_seconds": 0.5, "sleep": sleeps.append}
    return JupiterClient(fake.base_url, **(options | overrides))


# --- quotes -------------------------------------------------------------------------------------------------


def test_buy_quote_for_a_6_decimal_token_is_exact_to_the_raw_unit(jupiter, sleeps):
    quote = make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1_000_000_000)

    # 1 SOL / 0.000123 SOL per token = 8130.0813008... tokens -> 8130081300 raw units (floor).
    assert quote == JupiterQuote(input_mint=SOL_MINT, output_mint=TOKEN6, in_amount=1_000_000_000,
                          out_amount=8_130_081_300, other_amount_threshold=8_089_430_893, slippage_bps=50,
                          price_impact_pct=Decimal("0"), raw=quote.raw)
    assert quote.raw["outAmount"] == "8130081300"
    assert quote.raw["routePlan"]


def test_sell_quote_for_a_6_decimal_token_is_exact_to_the_raw_unit(jupiter, sleeps):
    quote = make_client(jupiter, sleeps).quote(TOKEN6, SOL_MINT, 8_130_081_300)

    # 8130.0813 tokens * 0.000123 SOL = 0.9999999999 SOL -> 999999999 lamports (floor).
    assert (quote.input_mint, quote.output_mint) == (TOKEN6, SOL_MINT)
    assert (quote.in_amount, quote.out_amount) == (8_130_081_300, 999_999_999)


def test_buy_and_sell_quotes_for_a_9_decimal_token_are_exact(jupiter, sleeps):
    client = make_client(jupiter, sleeps)

    buy = client.quote(SOL_MINT, TOKEN9, 1_234_567_891, slippage_bps=100)
    sell = client.quote(TOKEN9, SOL_MINT, buy.out_amount)

    assert (buy.out_amount, buy.other_amount_threshold, buy.slippage_bps) == (493_827_156, 488_888_884, 100)
    assert sell.out_amount == 1_234_567_890


def test_prices_changed_while_running_apply_to_the_next_quote(jupiter, sleeps):
    client = make_client(jupiter, sleeps)
    jupiter.set_price(TOKEN9, Decimal("5"), 9)

    assert client.quote(TOKEN9, SOL_MINT, 2_000_000_000).out_amount == 10_000_000_000


def test_request_carries_the_documented_query_parameters(jupiter, sleeps):
    make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 42, slippage_bps=75)

    path, query, _ = jupiter.requests[0]
    assert path == "/swap/v1/quote"
    assert query == {"inputMint": SOL_MINT, "outputMint": TOKEN6, "amount": "42", "slippageBps": "75",
                     "swapMode": "ExactIn", "restrictIntermediateTokens": "true"}


def test_api_key_header_is_sent_when_configured(jupiter, sleeps):
    jupiter.require_api_key("secret-key")

    make_client(jupiter, sleeps, api_key="secret-key").quote(SOL_MINT, TOKEN6, 1000)

    assert jupiter.requests[0][2]["x-api-key"] == "secret-key"


def test_api_key_header_is_absent_when_not_configured(jupiter, sleeps):
    make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)

    assert "x-api-key" not in jupiter.requests[0][2]


def test_missing_required_key_is_a_plain_jupiter_error_with_the_status(jupiter, sleeps):
    jupiter.require_api_key("secret-key")

    with pytest.raises(JupiterError) as caught:
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)

    assert type(caught.value) is JupiterError
    assert caught.value.status == 401
    assert len(jupiter.requests) == 1


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "1000", None])
def test_amount_must_be_a_positive_int(jupiter, sleeps, amount):
    with pytest.raises(ValueError, match="amount"):
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, amount)
    assert jupiter.requests == []


# --- refusals -----------------------------------------------------------------------------------------------


def test_no_route_is_a_no_route_error(jupiter, sleeps):
    jupiter.set_no_route(TOKEN6)

    with pytest.raises(NoRouteError) as caught:
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)

    assert caught.value.error_code == "COULD_NOT_FIND_ANY_ROUTE"
    assert caught.value.status == 400
    assert "COULD_NOT_FIND_ANY_ROUTE" in str(caught.value)
    assert len(jupiter.requests) == 1 and sleeps == []


def test_injected_no_route_body_is_a_no_route_error(jupiter, sleeps):
    jupiter.fail_next(400, {"error": "Could not find any route", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"})

    with pytest.raises(NoRouteError):
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN9, 1000)


def test_unknown_mint_is_not_tradable(jupiter, sleeps):
    with pytest.raises(NotTradableError) as caught:
        make_client(jupiter, sleeps).quote(SOL_MINT, UNKNOWN, 1000)

    assert caught.value.error_code == "TOKEN_NOT_TRADABLE"
    assert UNKNOWN in str(caught.value)


def test_unknown_error_code_is_a_plain_jupiter_error_carrying_the_code(jupiter, sleeps):
    jupiter.fail_next(400, {"error": "Circular arbitrage is disabled", "errorCode": "CIRCULAR_ARBITRAGE_IS_DISABLED"})

    with pytest.raises(JupiterError) as caught:
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)

    assert type(caught.value) is JupiterError
    assert caught.value.error_code == "CIRCULAR_ARBITRAGE_IS_DISABLED"
    assert "Circular arbitrage is disabled" in str(caught.value)


# --- retries ------------------------------------------------------------------------------------------------


def test_429_twice_then_success_backs_off_exponentially(jupiter, sleeps):
    jupiter.fail_next(429, times=2)

    quote = make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1_000_000_000)

    assert quote.out_amount == 8_130_081_300
    assert len(jupiter.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_429_retry_after_header_is_honoured(jupiter, sleeps):
    jupiter.fail_next(429, headers={"Retry-After": "2"})

    make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)

    assert sleeps == [2.0]


def test_429_forever_is_rate_limited_after_the_retries(jupiter, sleeps):
    jupiter.fail_next(429, times=100)

    with pytest.raises(RateLimitedError) as caught:
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)

    assert caught.value.status == 429
    assert len(jupiter.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_500_is_retried_then_unavailable(jupiter, sleeps):
    jupiter.fail_next(500, times=100)

    with pytest.raises(JupiterUnavailableError) as caught:
        make_client(jupiter, sleeps, max_retries=2).quote(SOL_MINT, TOKEN6, 1000)

    assert caught.value.status == 500
    assert len(jupiter.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_one_503_then_success_is_a_quote(jupiter, sleeps):
    jupiter.fail_next(503)

    assert make_client(jupiter, sleeps).quote(TOKEN9, SOL_MINT, 1_000_000_000).out_amount == 2_500_000_000


def test_timeout_is_retried_then_unavailable(jupiter, sleeps):
    jupiter.delay_next(1.0, times=2)

    with pytest.raises(JupiterUnavailableError, match="did not answer"):
        make_client(jupiter, sleeps, timeout=0.2, max_retries=1).quote(SOL_MINT, TOKEN6, 1000)

    assert len(jupiter.requests) == 2
    assert sleeps == [0.5]


def test_connection_refused_is_unavailable(sleeps):
    with FakeJupiter() as fake:
        base_url = fake.base_url
    client = JupiterClient(base_url, None, timeout=1.0, max_retries=1, sleep=sleeps.append)

    with pytest.raises(JupiterUnavailableError, match="cannot reach"):
        client.quote(SOL_MINT, TOKEN6, 1000)
    assert sleeps == [0.5]


def test_malformed_json_is_unavailable(jupiter, sleeps):
    jupiter.malformed_next()

    with pytest.raises(JupiterUnavailableError, match="malformed JSON"):
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)


def test_quote_missing_amounts_is_unavailable(jupiter, sleeps):
    jupiter.fail_next(200, {"inputMint": SOL_MINT, "outputMint": TOKEN6, "inAmount": "1000", "outAmount": "1.5"})

    with pytest.raises(JupiterUnavailableError, match="malformed"):
        make_client(jupiter, sleeps).quote(SOL_MINT, TOKEN6, 1000)


# --- client + shared limiter ---------------------------------------------------------------------------------


def test_every_attempt_takes_a_limiter_slot_and_an_empty_budget_sends_nothing(jupiter, sleeps, redis_conn):
    clock = FakeClock()
    limiter = SharedRateLimiter(redis_conn, "jupiter:test", 3, clock=clock, sleep=clock.sleep)
    client = make_client(jupiter, sleeps, limiter=limiter, max_limiter_wait=5.0)
    jupiter.fail_next(429, times=2)

    client.quote(SOL_MINT, TOKEN6, 1000)
    with pytest.raises(RateLimitedError, match="locally") as caught:
        client.quote(SOL_MINT, TOKEN6, 1000)

    assert len(jupiter.requests) == 3
    assert caught.value.retry_after == pytest.approx(60.0)


def test_from_config_uses_the_configured_url_key_and_shared_limit(jupiter, redis_conn):
    config = load_config({"JUPITER_BASE_URL": jupiter.base_url, "JUPITER_API_KEY": "k1",
                          "JUPITER_RATE_LIMIT_PER_MIN": "2"})
    client = from_config(config, redis_conn)

    client.quote(SOL_MINT, TOKEN6, 1000)
    client.quote(TOKEN6, SOL_MINT, 1000)
    with pytest.raises(RateLimitedError):
        client.quote(SOL_MINT, TOKEN6, 1000)

    assert len(jupiter.requests) == 2
    assert jupiter.requests[0][2]["x-api-key"] == "k1"
    assert redis_conn.zcard("jupiter:ratelimit") == 2


# --- SharedRateLimiter ---------------------------------------------------------------------------------------


def test_limit_of_five_grants_five_then_asks_to_wait(redis_conn):
    limiter = SharedRateLimiter(redis_conn, "rl:five", 5)

    assert [limiter.try_acquire() for _ in range(5)] == [0.0] * 5
    wait = limiter.try_acquire()

    assert 0 < wait <= 60
    assert 0 < redis_conn.pttl("rl:five") <= 60_000


def test_two_processes_share_one_budget(redis_url):
    first, second = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    first.flushdb()
    try:
        a, b = SharedRateLimiter(first, "rl:shared", 5), SharedRateLimiter(second, "rl:shared", 5)
        granted = [a.try_acquire(), b.try_acquire(), a.try_acquire(), b.try_acquire(), a.try_acquire()]
        assert granted == [0.0] * 5
        assert a.try_acquire() > 0 and b.try_acquire() > 0
        assert SharedRateLimiter(second, "rl:other", 5).try_acquire() == 0.0
    finally:
        first.close()
        second.close()


def test_concurrent_threads_never_get_more_than_the_limit(redis_url, redis_conn):
    limit, threads_count, tries = 10, 16, 4
    barrier = threading.Barrier(threads_count)
    granted: list[int] = []

    def worker() -> None:
        client = redis.Redis.from_url(redis_url)
        limiter = SharedRateLimiter(client, "rl:threads", limit)
        barrier.wait()
        granted.append(sum(limiter.try_acquire() == 0.0 for _ in range(tries)))
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(granted) == limit


def test_window_slides_with_the_clock(redis_conn):
    clock = FakeClock()
    limiter = SharedRateLimiter(redis_conn, "rl:clock", 5, clock=clock, sleep=clock.sleep)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0] * 3
    clock.now += 30
    assert [limiter.try_acquire() for _ in range(2)] == [0.0] * 2
    assert limiter.try_acquire() == pytest.approx(30.0)

    clock.now += 30.5  # the first three are out of the window, the last two are not
    assert [limiter.try_acquire() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(29.5)]


def test_acquire_sleeps_until_a_slot_frees(redis_conn):
    clock = FakeClock()
    limiter = SharedRateLimiter(redis_conn, "rl:acquire", 2, clock=clock, sleep=clock.sleep)
    limiter.acquire(timeout=0)
    clock.now += 10
    limiter.acquire(timeout=0)

    limiter.acquire(timeout=61)

    assert clock.slept == [pytest.approx(50.0)]


def test_acquire_refuses_a_wait_longer_than_the_timeout(redis_conn):
    clock = FakeClock()
    limiter = SharedRateLimiter(redis_conn, "rl:too-long", 1, clock=clock, sleep=clock.sleep)
    limiter.acquire(timeout=0)

    with pytest.raises(RateLimitWaitTooLong) as caught:
        limiter.acquire(timeout=10)

    assert caught.value.wait_seconds == pytest.approx(60.0)
    assert clock.slept == []


@pytest.mark.parametrize("limit", [0, -1, True, 2.5])
def test_limit_must_be_a_positive_int(redis_conn, limit):
    with pytest.raises(ValueError):
        SharedRateLimiter(redis_conn, "rl:bad", limit)
