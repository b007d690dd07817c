"""SQL for API keys (stored as hashes only)."""

from __future__ import annotations

from typing import Any

from psycopg import Connection

_COLUMNS = "id, name, role, created_at, last_used_at, revoked_at"


def insert(conn: Connection, name: str, role: str, key_hash: str) -> dict[str, Any]:
    """Store a new key; UniqueViolation when the name is taken."""
    return conn.execute(f"INSERT INTO api_keys (name, role, key_hash) VALUES (%s, %s, %s) RETURNING {_COLUMNS}",
                        (name, role, key_hash)).fetchone()


def active_by_hash(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """The unrevoked key with this hash (None: unknown or revoked)."""
    return conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
                        (key_hash,)).fetchone()


def touch(conn: Connection, key_id: int, every_seconds: int) -> None:
    """Record that a key was used (at most once per `every_seconds`, to keep reads cheap)."""
    conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s AND "
                 "(last_used_at IS NULL OR last_used_at < now() - make_interval(secs => %s))", (key_id, every_seconds))


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every key, revoked ones included, oldest first."""
    return conn.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id").fetchall()


def revoke(conn: Connection, name: str) -> dict[str, Any] | None:
    """Revoke a key by name (None when no active key has that name)."""
    return conn.execute(f"UPDATE api_keys SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL "
                        f"RETURNING {_COLUMNS}", (name,)).fetchone()


def count_active(conn: Connection) -> int:
    """How many keys are not revoked."""
    return conn.execute("SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL").fetchone()["n"]


def retire_name(conn: Connection, name: str) -> None:
    """Revoke the key with this name (if active) and rename it `<name>-revoked-<id>`, freeing the name."""
    conn.execute("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), name = name || '-revoked-' || id "
                 "WHERE name = %s", (name,))
