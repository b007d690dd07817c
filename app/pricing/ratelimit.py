"""A calls-per-minute budget kept in Redis, shared by every process that uses the same key."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

WINDOW_SECONDS = 60.0
MIN_WAIT_SECONDS = 0.001

# Sliding-window log: one sorted-set member per granted call, scored by its time.
# Trimming, counting and adding happen in one script, so concurrent callers cannot overshoot.
_ACQUIRE_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return {1, '0'}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""


class RateLimitWaitTooLong(Exception):
    """The next free slot is further away than the caller agreed to wait: give up or try again later."""

    def __init__(self, wait_seconds: float, timeout: float):
        super().__init__(f"next rate-limit slot is {wait_seconds:.3f}s away, longer than the {timeout:.3f}s allowed")
        self.wait_seconds = wait_seconds
        self.timeout = timeout


class SharedRateLimiter:
    """At most `limit_per_minute` calls in any 60 s window, across all processes sharing Redis and `key`.

    Times come from the injected clock of each caller, so processes on different machines should keep
    their clocks in sync.
    """

    def __init__(self, redis_client: Any, key: str, limit_per_minute: int,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        if isinstance(limit_per_minute, bool) or not isinstance(limit_per_minute, int) or limit_per_minute < 1:
            raise ValueError(f"limit_per_minute must be a positive integer, got {limit_per_minute!r}")
        self._script = redis_client.register_script(_ACQUIRE_SCRIPT)
        self._key = key
        self._limit = limit_per_minute
        self._clock = clock
        self._sleep = sleep

    @property
    def limit_per_minute(self) -> int:
        """How many calls the shared budget allows per 60 s."""
        return self._limit

    def try_acquire(self) -> float:
        """Take a slot if one is free: 0.0 when taken, otherwise the seconds until one frees up."""
        now = float(self._clock())
        granted, wait = self._script(keys=[self._key],
                                     args=[repr(now), repr(WINDOW_SECONDS), self._limit, uuid.uuid4().hex])
        if int(granted):
            return 0.0
        return max(float(wait), MIN_WAIT_SECONDS)

    def acquire(self, timeout: float) -> None:
        """Take a slot, waiting at most `timeout` seconds; RateLimitWaitTooLong when that is not enough."""
        budget = timeout
        while (wait := self.try_acquire()) > 0:
            if wait > budget:
                raise RateLimitWaitTooLong(wait, timeout)
            self._sleep(wait)
            budget -= wait
