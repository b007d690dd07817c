"""Per-process resources for jobs: configuration, database pool, Redis (created after fork)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from psycopg import Connection

from app.config import Config, load_config
from app.db import get_pool
from jobs.queues import redis_connection


@cache
def _config_for(pid: int) -> Config:
    return load_config()


def config() -> Config:
    """This process's configuration (read once)."""
    return _config_for(os.getpid())


@contextmanager
def db() -> Iterator[Connection]:
    """A pooled autocommit connection of this process."""
    cfg = config()
    with get_pool(cfg.database_url, cfg.db_pool_max).connection() as conn:
        yield conn


def redis():
    """This process's Redis connection."""
    return redis_connection(config())
