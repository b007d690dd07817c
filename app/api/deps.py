"""Per-request access to configuration, the database pool and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from flask import current_app
from psycopg import Connection

from app.config import Config
from app.db import get_pool


def config() -> Config:
    """The running app's configuration."""
    return current_app.extensions["trading_config"]


@contextmanager
def db() -> Iterator[Connection]:
    """A pooled autocommit connection; services open transactions on it."""
    cfg = config()
    with get_pool(cfg.database_url, cfg.db_pool_max).connection() as conn:
        yield conn


def redis_client() -> redis.Redis:
    """This process's Redis client (the one RQ uses too)."""
    from jobs.queues import redis_connection

    return redis_connection(config())
