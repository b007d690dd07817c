"""A throw-away database for the headless demo: on DATABASE_URL's server, or an embedded one."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from app.db import with_database
from app.embedded import EmbeddedServices
from app.migrate import migrate


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database that is dropped (or deleted) afterwards."""
    if server_url:
        name = f"tw_demo_{uuid.uuid4().hex[:10]}"
        admin = with_database(server_url, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = with_database(server_url, name)
            migrate(url)
            yield url
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    folder = Path(tempfile.mkdtemp(prefix="tw-demo-"))
    services = EmbeddedServices(folder).start(need_postgres=True, need_redis=False)
    try:
        migrate(services.database_url)
        yield services.database_url
    finally:
        services.stop()
        shutil.rmtree(folder, ignore_errors=True)
