"""Per-request access to this process's resources (built by the composition root, app/bootstrap.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from psycopg import Connection

from app import bootstrap
from app.config import Config


def config() -> Config:
    """The running app's configuration."""
    return current_app.extensions["trading_config"]


def process() -> bootstrap.Process:
    """This web process's resources for the app's configuration."""
    return bootstrap.process(config())


@contextmanager
def db() -> Iterator[Connection]:
    """A pooled autocommit connection; services open transactions on it."""
    with process().db() as conn:
        yield conn
