"""Apply schema.sql's numbered migration blocks once each, in order, recorded in schema_version."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from app.config import PROJECT_ROOT

SCHEMA_PATH = PROJECT_ROOT / "schema.sql"
_BLOCK_HEADER = re.compile(r"^-- migrate: (\d+) (.+)$", re.MULTILINE)
_ADVISORY_LOCK_KEY = 727_001  # any constant: serialises concurrent migrate runs


class MigrationError(RuntimeError):
    """schema.sql and the database's recorded history disagree."""


@dataclass(frozen=True)
class Migration:
    """One numbered block of schema.sql."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """Hash of the block's SQL, to detect edits of shipped migrations."""
        return hashlib.sha256(self.sql.strip().encode()).hexdigest()


def parse_migrations(text: str) -> list[Migration]:
    """Split schema.sql text into its numbered migrations, checking they count up from 1."""
    headers = list(_BLOCK_HEADER.finditer(text))
    migrations = []
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        migrations.append(Migration(int(match.group(1)), match.group(2).strip(), text[match.end():end]))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"schema.sql migration numbers must be 1..n in order, got {versions}")
    return migrations


def applied_versions(conn: psycopg.Connection) -> dict[int, str]:
    """Versions already applied, with their checksums."""
    rows = conn.execute("SELECT version, checksum FROM schema_version").fetchall()
    return {version: checksum for version, checksum in rows}


def migrate(database_url: str, schema_path: Path = SCHEMA_PATH) -> list[int]:
    """Bring the database to the latest schema; returns the versions applied now (empty if current)."""
    migrations = parse_migrations(schema_path.read_text())
    applied_now: list[int] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = applied_versions(conn)
            for migration in migrations:
                if migration.version in done:
                    _check_unchanged(migration, done[migration.version])
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO schema_version (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
    return applied_now


def _check_unchanged(migration: Migration, recorded_checksum: str) -> None:
    if recorded_checksum != migration.checksum:
        raise MigrationError(
            f"migration {migration.version} ({migration.name}) was edited after it was applied;"
            " append a new migration block to schema.sql instead"
        )
