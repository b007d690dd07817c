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

from app.pricing.sources import PriceSource, PriceUnavailable, quoted_price

MintPrice = Callable[[str, int, int], Decimal]  # (mint, decimals, tokens_raw) -> SOL per whole token
_WAIT_FOR_OTHER_SECONDS = 2.0
_ERROR_PREFIX = "ERR:"


def shared_mint_price(redis: Redis, source: PriceSource, interval: int) -> MintPrice:
    """A MintPrice quoting each mint at most once per `interval` seconds across all processes."""

    def price(mint: str, decimals: int, tokens_raw: int) -> Decimal:
        key = f"tw:price:{source.name}:{mint}:{int(time.time() // interval)}"
        cached = redis.get(key) or _wait_for_other_quoter(redis, key)
        if cached is None:
            cached = _quote_and_share(redis, key, source, (mint, decimals, tokens_raw), interval)
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
                     interval: int) -> bytes:
    try:
        value = str(quoted_price(source, *held)).encode()
    except PriceUnavailable as exc:
        value = f"{_ERROR_PREFIX}{exc}".encode()
    redis.set(key, value, ex=interval * 2)
    return value
