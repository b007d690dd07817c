"""SQL for the audit log (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb


def insert(conn: Connection, entry: dict[str, Any]) -> None:
    """Append one audit entry."""
    conn.execute(
        """INSERT INTO audit_log (key_name, method, path, target, before, after, client_addr)
           VALUES (%(key_name)s, %(method)s, %(path)s, %(target)s, %(before)s, %(after)s, %(client_addr)s)""",
        {**entry, "before": _json(entry.get("before")), "after": _json(entry.get("after"))})


def page(conn: Connection, since: datetime | None, key_name: str | None, target: str | None,
         page_number: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Entries newest first matching the filters, one page of them, and how many match in all."""
    where = """(%(since)s::timestamptz IS NULL OR at >= %(since)s) AND (%(key)s::text IS NULL OR key_name = %(key)s)
               AND (%(target)s::text IS NULL OR target = %(target)s)"""
    params = {"since": since, "key": key_name, "target": target, "limit": page_size,
              "offset": (page_number - 1) * page_size}
    rows = conn.execute(f"SELECT * FROM audit_log WHERE {where} ORDER BY at DESC, id DESC "
                        "LIMIT %(limit)s OFFSET %(offset)s", params).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM audit_log WHERE {where}", params).fetchone()["n"]
    return rows, total


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)
