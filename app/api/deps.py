"""Per-request access to this process's resources (built by the composition root, app/bootstrap.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from psycopg import Connection

from app import bootstrap
from app.api.unit_of_work import request_work
from app.config import Config
from app.services.ports import Dispatcher


def config() -> Config:
    """The running app's configuration."""
    return current_app.extensions["trading_config"]


def process() -> bootstrap.Process:
    """This web process's resources for the app's configuration."""
    return bootstrap.process(config())


@contextmanager
def db() -> Iterator[Connection]:
    """The request's connection: for an API write, the one whose transaction commits with its audit entry."""
    resources = process()
    work = request_work(resources)
    if work is not None:
        yield work.conn
        return
    with resources.db() as conn:
        yield conn


def dispatcher() -> Dispatcher:
    """The queue port for this request (for an API write, its calls wait for the commit)."""
    resources = process()
    work = request_work(resources)
    return work.dispatcher if work is not None else resources.dispatcher
