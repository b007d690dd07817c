"""PostgreSQL access: one connection pool per process, created lazily after fork."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

_lock = threading.Lock()
_pools: dict[tuple[int, str], ConnectionPool] = {}


def get_pool(database_url: str, max_size: int = 8) -> ConnectionPool:
    """Return this process's pool for the URL, opening it on first use (fork-safe)."""
    key = (os.getpid(), database_url)
    pool = _pools.get(key)
    if pool is not None:
        return pool
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ConnectionPool(
                database_url,
                min_size=1,
                max_size=max_size,
                kwargs={"row_factory": dict_row, "autocommit": True, "options": "-c TimeZone=UTC"},
                open=True,
                name=f"tw-{os.getpid()}",
            )
            _pools[key] = pool
    return pool


def close_pools() -> None:
    """Close the pools this process opened."""
    with _lock:
        for key in [k for k in _pools if k[0] == os.getpid()]:
            _pools.pop(key).close()


@contextmanager
def connect(database_url: str) -> Iterator[psycopg.Connection]:
    """A standalone connection (dict rows), for jobs and commands outside the web pool."""
    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True, options="-c TimeZone=UTC") as conn:
        yield conn


def with_database(url: str, name: str) -> str:
    """The same server's URL pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
