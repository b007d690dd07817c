"""Queue names and per-process Redis / queue handles."""

from __future__ import annotations

import os

import redis
from rq import Queue

from app.config import Config, ConfigError

BUY_QUEUE = "buy"
SELL_QUEUE = "sell"
DEFAULT_QUEUE = "default"
ALL_QUEUES = (BUY_QUEUE, SELL_QUEUE, DEFAULT_QUEUE)

_connections: dict[tuple[int, str], redis.Redis] = {}


def redis_connection(config: Config) -> redis.Redis:
    """This process's Redis connection for RQ (created after fork)."""
    if not config.redis_url:
        raise ConfigError("REDIS_URL is not set: run `make run` (embedded Redis) or export it.")
    key = (os.getpid(), config.redis_url)
    if key not in _connections:
        _connections[key] = redis.Redis.from_url(config.redis_url, socket_connect_timeout=5)
    return _connections[key]


def queue(config: Config, name: str) -> Queue:
    """An RQ queue by name on the configured Redis."""
    return Queue(name, connection=redis_connection(config))
