"""One price per mint per check interval, shared by every worker through Redis.

The first worker to need a mint's price in an interval takes a short lock, quotes it and stores
the price (or the error) for the others; they wait up to a couple of seconds for it instead of
quoting again, so N positions in one mint cost one quote per interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from redis import Redis

from app.core.clock import Clock
from app.pricing.sources import PriceSource, PriceUnavailable, sell_quote_price, stated_price

MintPrice = Callable[[str, int, int], Decimal]  # (mint, decimals, tokens_raw) -> SOL per whole token
PriceRecorder = Callable[[str, Decimal, str], None]  # (mint, SOL per whole token, source name): store a decided price
_WAIT_FOR_OTHER_SECONDS = 2.0
_ERROR_PREFIX = "ERR:"


def shared_mint_price(redis: Redis, source: PriceSource, interval: int,
                      record: PriceRecorder | None = None) -> MintPrice:
    """A MintPrice quoting each mint at most once per `interval` seconds across all processes.

    The process that quotes a mint in an interval hands the price to `record` (once per mint per interval).
    """

    def price(mint: str, decimals: int, tokens_raw: int) -> Decimal:
        key = f"tw:price:{source.name}:{mint}:{int(time.time() // interval)}"
        cached = redis.get(key) or _wait_for_other_quoter(redis, key)
        if cached is None:
            cached = _quote_and_share(redis, key, source, (mint, decimals, tokens_raw), interval, record)
        text = cached.decode()
        if text.startswith(_ERROR_PREFIX):
            raise PriceUnavailable(text[len(_ERROR_PREFIX):])
        return Decimal(text)

    return price


def _wait_for_other_quoter(redis: Redis, key: str) -> bytes | None:
    """None when this caller took the quoting lock; otherwise the other quoter's value (None on timeout)."""
    if redis.set(key + ":lock", b"1", nx=True, ex=10):
        return None
    deadline = time.monotonic() + _WAIT_FOR_OTHER_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
        value = redis.get(key)
        if value is not None:
            return value
    return None


def _quote_and_share(redis: Redis, key: str, source: PriceSource, held: tuple[str, int, int],
                     interval: int, record: PriceRecorder | None) -> bytes:
    try:
        quote, price = sell_quote_price(source, *held)
        value = str(price).encode()
    except PriceUnavailable as exc:
        value = f"{_ERROR_PREFIX}{exc}".encode()
    else:
        if record is not None:
            record(held[0], stated_price(quote, price), source.name)
    redis.set(key, value, ex=interval * 2)
    return value


def interval_mint_price(source: PriceSource, interval: int, clock: Clock,
                        record: PriceRecorder | None = None) -> MintPrice:
    """`shared_mint_price` for one process on a simulated clock (headless demo, backtests): each mint is quoted
    once per `interval` seconds of the clock's time, the first check's quote serving the interval's others.

    The quote's price is handed to `record` once per mint per interval, as the live shared price does.
    """
    prices: dict[str, tuple[int, Decimal | PriceUnavailable]] = {}

    def price(mint: str, decimals: int, tokens_raw: int) -> Decimal:
        bucket = int(clock().timestamp() // interval)
        cached = prices.get(mint)
        if cached is None or cached[0] != bucket:
            cached = prices[mint] = (bucket, _quote_once(source, (mint, decimals, tokens_raw), record))
        if isinstance(cached[1], PriceUnavailable):
            raise PriceUnavailable(str(cached[1]))
        return cached[1]

    return price


def _quote_once(source: PriceSource, held: tuple[str, int, int],
                record: PriceRecorder | None) -> Decimal | PriceUnavailable:
    try:
        quote, price = sell_quote_price(source, *held)
    except PriceUnavailable as exc:
        return exc
    if record is not None:
        record(held[0], stated_price(quote, price), source.name)
    return price
