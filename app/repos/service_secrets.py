"""SQL for secrets the service generates for itself (shared by every process through PostgreSQL)."""

from __future__ import annotations

from psycopg import Connection


def get_or_create(conn: Connection, name: str, fresh_value: str) -> str:
    """The stored secret `name`, storing `fresh_value` first when there is none (race-safe)."""
    conn.execute("INSERT INTO service_secrets (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                 (name, fresh_value))
    return conn.execute("SELECT value FROM service_secrets WHERE name = %s", (name,)).fetchone()["value"]
