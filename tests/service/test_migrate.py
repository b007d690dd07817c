"""Migrations: fresh database, then again (nothing changes), and an edited shipped block is refused."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from app.db import with_database
from app.migrate import MigrationError, migrate, parse_migrations


@pytest.fixture
def empty_database(servers):
    name = f"tw_migrate_{uuid.uuid4().hex[:8]}"
    admin_url = with_database(servers[0], "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield with_database(servers[0], name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def schema_snapshot(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'public' ORDER BY 1, 2""").fetchall() + conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1").fetchall()


def test_fresh_then_again_changes_nothing(empty_database):
    versions = [m.version for m in parse_migrations(open("schema.sql").read())]
    assert migrate(empty_database) == versions
    before = schema_snapshot(empty_database)
    with psycopg.connect(empty_database) as conn:
        applied_at = conn.execute("SELECT version, applied_at FROM schema_version ORDER BY 1").fetchall()
    assert migrate(empty_database) == []
    assert schema_snapshot(empty_database) == before
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT version, applied_at FROM schema_version ORDER BY 1").fetchall() == applied_at
    tables = {row[0] for row in before}
    assert {"wallets", "positions", "trade_logs", "ml_models", "trading_workflows", "workflow_executions",
            "schema_version"} <= tables


def test_edited_shipped_migration_is_refused(empty_database, tmp_path):
    migrate(empty_database)
    edited = tmp_path / "schema.sql"
    edited.write_text(open("schema.sql").read().replace("CREATE INDEX idx_trade_logs_mint",
                                                        "CREATE INDEX idx_trade_logs_mint_x"))
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrate(empty_database, edited)


def test_new_block_is_applied_once(empty_database, tmp_path):
    migrate(empty_database)
    count = len(parse_migrations(open("schema.sql").read()))
    extended = tmp_path / "schema.sql"
    extended.write_text(open("schema.sql").read()
                        + f"\n-- migrate: {count + 1} extra\nCREATE TABLE extra_table (id INT);\n")
    assert migrate(empty_database, extended) == [count + 1]
    assert migrate(empty_database, extended) == []


@pytest.mark.parametrize("text", [
    "-- migrate: 2 starts at two\nSELECT 1;",
    "-- migrate: 1 a\nSELECT 1;\n-- migrate: 3 gap\nSELECT 1;",
])
def test_misnumbered_blocks_are_refused(text):
    with pytest.raises(MigrationError):
        parse_migrations(text)
