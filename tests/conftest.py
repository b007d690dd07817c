"""Shared fixtures: real PostgreSQL and Redis (the machine's when the URLs are set, embedded otherwise).

Each test run gets a fresh database (created, migrated, dropped); each test starts from empty tables.
Test data comes from tests/factories.py; the fixtures here only wire it to the database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql
from psycopg.rows import dict_row

from app.config import PROJECT_ROOT, Config, load_config
from app.db import with_database
from app.embedded import EmbeddedServices
from app.migrate import migrate
from tests import factories

MIGRATIONS_TABLE = "schema_version"  # app/migrate.py's record of the applied migrations, never emptied
SINGLETONS = "INSERT INTO trading_state DEFAULT VALUES"


@pytest.fixture(scope="session")
def servers():
    """(server_url, redis_url) for the whole run."""
    db_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    services = None
    if not db_url or not redis_url:
        services = EmbeddedServices(Path(PROJECT_ROOT) / ".data" / "test").start(
            need_postgres=not db_url, need_redis=not redis_url)
    yield (db_url or services.database_url).replace("postgres://", "postgresql://", 1), redis_url or services.redis_url
    if services is not None:
        services.stop()


@pytest.fixture(scope="session")
def database_url(servers):
    """A fresh, migrated database for this test run, dropped at the end."""
    server_url = servers[0]
    name = f"tw_test_{uuid.uuid4().hex[:10]}"
    admin_url = with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    migrate(url)
    yield url
    from app.bootstrap import close_all

    close_all()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url(servers):
    """The Redis URL tests use (its database is flushed by the `redis_conn` fixture)."""
    return servers[1]


@pytest.fixture
def config(database_url, redis_url) -> Config:
    """Service configuration pointing at the test database and Redis."""
    return load_config({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PAPER_FEE_BPS": "30",
                        "RATE_LIMIT_READ": "100000/minute", "RATE_LIMIT_WRITE": "100000/minute"})


@pytest.fixture(scope="session")
def empty_tables(database_url) -> Callable[[psycopg.Connection], None]:
    """Empties every table the migrations created (read from the database, so none is forgotten)."""
    with psycopg.connect(database_url) as connection:
        names = [name for (name,) in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> %s ORDER BY 1",
            (MIGRATIONS_TABLE,))]
    statement = sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, names)))

    def _empty(connection: psycopg.Connection) -> None:
        connection.execute(statement)
        connection.execute(SINGLETONS)  # rows the migrations seed, as a fresh database has them
    return _empty


@pytest.fixture
def conn(database_url, empty_tables):
    """A direct autocommit connection to empty tables."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        empty_tables(connection)
        yield connection


@pytest.fixture
def redis_conn(redis_url):
    """A Redis client on an empty database."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def app(config, conn, redis_conn):
    """The Flask app on empty tables."""
    from app import create_app

    application = create_app(config)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def admin_key(conn) -> str:
    """An admin API key (created directly through the key service)."""
    from app.services.api_keys import create_key

    return create_key(conn, "test-admin")[1]


@pytest.fixture
def client(app, admin_key):
    """Flask test client sending the admin key with every request."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_key}"
    return test_client


@pytest.fixture
def anonymous_client(app):
    """Flask test client sending no key."""
    return app.test_client()


@pytest.fixture
def make_model(conn) -> Callable[..., int]:
    """Insert an ml_models row by name (factories.add_model); returns its id."""
    return lambda name="model": factories.add_model(conn, name)


@pytest.fixture
def wallet(conn, config) -> dict:
    """The default TEST wallet (factories.WALLET_ALIAS, WALLET_BALANCE SOL), as its row."""
    return factories.create_wallet(conn, config)


@pytest.fixture
def position(conn, wallet, make_model) -> dict:
    """An OPEN position the BUY engine bought on the default wallet (factories.bought_position), as its row."""
    return factories.bought_position(conn, make_model())


@pytest.fixture
def job_env(monkeypatch, database_url, redis_url):
    """The environment an RQ job run in this process reads its configuration from: this run's database and Redis."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    yield
    from app.bootstrap import _processes

    stale = _processes.pop((os.getpid(), None), None)
    if stale is not None:
        stale.close()
