"""PostgreSQL connections: pools (owned per process by app.bootstrap) and standalone connections."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

CONNECT_TIMEOUT_SECONDS = 3  # a down PostgreSQL fails a job in seconds, not after the pool's default 30 s
POOL_WAIT_SECONDS = 5


def open_pool(database_url: str, max_size: int = 8) -> ConnectionPool:
    """A connection pool (dict rows, autocommit, UTC sessions); open it in the process that uses it."""
    return ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": True, "options": "-c TimeZone=UTC",
                "connect_timeout": CONNECT_TIMEOUT_SECONDS},
        timeout=POOL_WAIT_SECONDS,
        open=True,
        name=f"tw-{os.getpid()}",
    )


@contextmanager
def connect(database_url: str) -> Iterator[psycopg.Connection]:
    """A standalone connection (dict rows), for jobs and commands outside the web pool."""
    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True, options="-c TimeZone=UTC") as conn:
        yield conn


def with_database(url: str, name: str) -> str:
    """The same server's URL pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
